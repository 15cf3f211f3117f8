// Progress of long CLI work on stderr (stdout stays the result, for scripts). On a terminal one line is
// rewritten in place; elsewhere (a pipe, CI) a line is written only when the text changes, and `tty-only`
// progress (upload percentages) writes nothing at all.
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
}

const stderrSink: ProgressSink = {
  write: (text) => void process.stderr.write(text),
  get isTTY() {
    return process.stderr.isTTY === true;
  },
};

export class Progress {
  #last = '';
  #shown = false;

  constructor(
    private readonly mode: 'always' | 'tty-only' = 'always',
    private readonly sink: ProgressSink = stderrSink,
  ) {}

  update(text: string): void {
    if (text === this.#last) return;
    this.#last = text;
    if (this.sink.isTTY) {
      this.sink.write(`\r\x1b[2K${text}`);
      this.#shown = true;
    } else if (this.mode === 'always') {
      this.sink.write(`${text}\n`);
    }
  }

  /** Ends the progress line (on a terminal it is cleared: the result follows on stdout). */
  done(): void {
    if (this.#shown) this.sink.write('\r\x1b[2K');
    this.#shown = false;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

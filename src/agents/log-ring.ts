// The last lines an agent logged, numbered so a client can page (`afterSeq`) and follow without gaps.
import type { AgentLogLine } from './agent-types.ts';

export type LogListener = (line: AgentLogLine) => void;

export class LogRing {
  private readonly lines: (AgentLogLine | undefined)[];
  private nextSeq = 1;
  private readonly listeners = new Set<LogListener>();

  constructor(readonly capacity: number) {
    this.lines = new Array<AgentLogLine | undefined>(capacity);
  }

  /** Stores a line with the next sequence number and tells the followers. */
  append(line: Omit<AgentLogLine, 'seq'>): AgentLogLine {
    const full: AgentLogLine = { seq: this.nextSeq++, ...line };
    this.lines[full.seq % this.capacity] = full;
    for (const listener of this.listeners) {
      try {
        listener(full);
      } catch {
        // A broken follower (a closed stream) must not break the agent's logging.
      }
    }
    return full;
  }

  /** Lines with seq > afterSeq still held, oldest first, at most `limit`. */
  after(afterSeq: number, limit: number): AgentLogLine[] {
    const out: AgentLogLine[] = [];
    const first = Math.max(afterSeq + 1, this.nextSeq - this.capacity, 1);
    for (let seq = first; seq < this.nextSeq && out.length < limit; seq++) {
      const line = this.lines[seq % this.capacity];
      if (line && line.seq === seq) out.push(line);
    }
    return out;
  }

  follow(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

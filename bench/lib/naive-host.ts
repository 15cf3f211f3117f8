// The baseline of issue 2's ping-pong figure: the same agent modules instantiated directly in one thread,
// JSON in and out, a plain array queue — what any host must do at the least, with no validation, routing,
// mailboxes, metrics or isolation.

interface NaiveAgent {
  memory: WebAssembly.Memory;
  alloc: (len: number) => number;
  handle: (ptr: number, len: number) => number;
}

interface Envelope {
  to: string;
  message: Record<string, unknown>;
}

export class NaiveHost {
  readonly #agents = new Map<string, NaiveAgent>();
  #queue: Envelope[] = [];
  #head = 0;
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();
  /** Called on every send, for latency sampling. */
  onSend: () => void = () => {};
  sends = 0;

  async add(name: string, module: WebAssembly.Module): Promise<void> {
    let agent: NaiveAgent | undefined;
    const instance = await WebAssembly.instantiate(module, {
      caxton: {
        send_message: (ptr: number, len: number): number => {
          const bytes = new Uint8Array(agent!.memory.buffer, ptr, len);
          const message = JSON.parse(this.#decoder.decode(bytes)) as Record<string, unknown>;
          message.sender = name;
          this.#queue.push({ to: message.receiver as string, message });
          this.sends++;
          this.onSend();
          return 0;
        },
      },
    });
    const e = instance.exports as Record<string, unknown>;
    agent = {
      memory: e.memory as WebAssembly.Memory,
      alloc: e.agent_alloc as NaiveAgent['alloc'],
      handle: e.handle_message as NaiveAgent['handle'],
    };
    this.#agents.set(name, agent);
  }

  post(to: string, message: Record<string, unknown>): void {
    this.#queue.push({ to, message });
  }

  /** Handles queued messages until `until()` says stop (checked every 256 messages). */
  run(until: () => boolean): void {
    for (let n = 0; ; n++) {
      if ((n & 255) === 0 && until()) return;
      if (this.#head >= this.#queue.length) return;
      const envelope = this.#queue[this.#head++];
      if (this.#head > 65_536) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      const agent = this.#agents.get(envelope.to)!;
      const json = JSON.stringify(envelope.message);
      const len = Buffer.byteLength(json);
      const ptr = agent.alloc(len);
      this.#encoder.encodeInto(json, new Uint8Array(agent.memory.buffer, ptr, len));
      agent.handle(ptr, len);
    }
  }
}

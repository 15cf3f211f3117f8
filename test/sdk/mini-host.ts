// A minimal host of the agent ABI for the SDK's tests: instantiates a module with a recording `caxton` import
// object and delivers messages the way the ABI says (agent_alloc, write the bytes, handle_message). It checks
// pointers like the real host and plays the host's part of sending (sender, message_id, conversation_id).
import { randomFillSync, randomUUID } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type AclMessage = { [key: string]: Json };

const EXPECTED_IMPORTS: Record<string, string> = {
  send_message: 'function', log: 'function', now_micros: 'function', random_fill: 'function',
  set_timer: 'function', cancel_timer: 'function', agent_name: 'function', call_tool: 'function',
};

/** Imports of `bytes` that are not part of the ABI (module `caxton`, names above). */
export function foreignImports(bytes: Uint8Array): string[] {
  const mod = new WebAssembly.Module(bytes as BufferSource);
  return WebAssembly.Module.imports(mod)
    .filter((i) => i.module !== 'caxton' || EXPECTED_IMPORTS[i.name] !== i.kind)
    .map((i) => `${i.module}.${i.name}`);
}

export class MiniHost {
  readonly sent: AclMessage[] = [];
  readonly rawSent: string[] = [];
  readonly logs: { level: number; text: string }[] = [];
  readonly toolCalls: Json[] = [];
  readonly timers = new Map<number, number>();
  private nextTimer = 1;
  private nextCall = 1;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private exports!: WebAssembly.Exports;

  private constructor(readonly name: string) {}

  static async load(bytes: Uint8Array, name = 'agent'): Promise<MiniHost> {
    const host = new MiniHost(name);
    const instance = await WebAssembly.instantiate(new WebAssembly.Module(bytes as BufferSource), { caxton: host.imports() });
    host.exports = instance.exports;
    (host.exports._initialize as (() => void) | undefined)?.();
    const init = host.exports.agent_init as (() => number) | undefined;
    if (init && init() !== 0) throw new Error('agent_init failed');
    return host;
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory as WebAssembly.Memory;
  }

  /** Delivers `msg` (the host's fields filled in when absent) and returns handle_message's result. */
  deliver(msg: AclMessage): number {
    const full: AclMessage = {
      sender: 'client:test', receiver: this.name, conversation_id: randomUUID(), message_id: randomUUID(), ...msg,
    };
    return this.deliverBytes(new TextEncoder().encode(JSON.stringify(full)));
  }

  deliverBytes(bytes: Uint8Array): number {
    const ptr = (this.exports.agent_alloc as (len: number) => number)(bytes.length);
    if (ptr <= 0 || ptr + bytes.length > this.memory.buffer.byteLength) throw new Error(`agent_alloc returned ${ptr}`);
    new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
    return (this.exports.handle_message as (p: number, l: number) => number)(ptr, bytes.length);
  }

  fireTimer(id: number): void {
    this.timers.delete(id);
    (this.exports.handle_timer as (id: number) => void)(id);
  }

  /** Delivers `msg` and returns what the agent sent while handling it. */
  exchange(msg: AclMessage): { result: number; replies: AclMessage[] } {
    const before = this.sent.length;
    const result = this.deliver(msg);
    return { result, replies: this.sent.slice(before) };
  }

  private bytesAt(ptr: number, len: number): Uint8Array | null {
    if (ptr < 0 || len < 0 || ptr + len > this.memory.buffer.byteLength) return null;
    return new Uint8Array(this.memory.buffer, ptr, len);
  }

  private jsonAt(ptr: number, len: number): { text: string; value: Json } | null {
    const bytes = this.bytesAt(ptr, len);
    if (!bytes) return null;
    try {
      const text = this.decoder.decode(bytes);
      return { text, value: JSON.parse(text) as Json };
    } catch {
      return null;
    }
  }

  private imports(): Record<string, (...args: never[]) => unknown> {
    return {
      send_message: (ptr: number, len: number): number => {
        const json = this.jsonAt(ptr, len);
        if (!json || typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) return -1;
        const msg = json.value as AclMessage;
        this.rawSent.push(json.text);
        this.sent.push({ ...msg, sender: this.name, message_id: randomUUID(), conversation_id: msg.conversation_id ?? randomUUID() });
        return 0;
      },
      log: (level: number, ptr: number, len: number): void => {
        const bytes = this.bytesAt(ptr, len);
        if (bytes) this.logs.push({ level, text: new TextDecoder().decode(bytes) });
      },
      now_micros: (): bigint => BigInt(Date.now()) * 1000n,
      random_fill: (ptr: number, len: number): number => {
        const bytes = this.bytesAt(ptr, len);
        if (!bytes) return -1;
        randomFillSync(bytes);
        return 0;
      },
      set_timer: (delayMs: number): number => {
        if (delayMs < 0) return -1;
        const id = this.nextTimer++;
        this.timers.set(id, delayMs);
        return id;
      },
      cancel_timer: (id: number): number => (this.timers.delete(id) ? 0 : -5),
      agent_name: (ptr: number, cap: number): number => {
        const name = new TextEncoder().encode(this.name);
        if (name.length <= cap) {
          const target = this.bytesAt(ptr, name.length);
          if (!target) return -1;
          target.set(name);
        }
        return name.length;
      },
      call_tool: (ptr: number, len: number): number => {
        const json = this.jsonAt(ptr, len);
        if (!json) return -1;
        this.toolCalls.push(json.value);
        return this.nextCall++;
      },
    };
  }
}

// The `caxton` imports of one agent instance (../shared/spec/agent-abi.md). Every pointer/length pair is
// checked against the memory's current size; nothing an agent passes can make the host throw. Effects
// with consequences outside the instance (sends, tool calls) are only collected here: the runtime commits
// them when the invocation ends without a trap.
import { randomFillSync } from 'node:crypto';
import type { AclMessage } from '../messaging/message.ts';
import { MAX_CONTENT_DEPTH, nestedDeeperThan, parseMessage } from '../messaging/message.ts';
import { AbiError, LOG_LEVELS } from './abi.ts';
import { readUtf8 } from './buffer-text.ts';
import { randomUuid } from '../messaging/random-uuid.ts';
import type { RuntimeLimits } from './runtime-defaults.ts';
import { rememberSpliced, spliceIndex } from '../messaging/wire-text.ts';

export type AgentLogLevel = (typeof LOG_LEVELS)[number];

/** Runs callbacks later; injected so tests fire timers by hand. */
export interface TimerScheduler {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: TimerScheduler = {
  set: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A tool call the agent asked for; issued only if its invocation ends without a trap. */
export interface ToolCallRequest {
  id: number;
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  /** The invocation span that made the call, when tracing is on and the invocation is traced. */
  traceparent?: string;
}

/** What an instance needs from the agent it belongs to (state that outlives one instance). */
export interface HostBindings {
  readonly agentName: string;
  readonly limits: RuntimeLimits;
  readonly timers: TimerScheduler;
  /** Wall-clock milliseconds since the epoch (fractions allowed). */
  now(): number;
  log(level: AgentLogLevel, message: string): void;
  toolGranted(server: string, tool: string): boolean;
  permissionDenied(what: string): void;
  /** Call ids are per agent, so results still match after the instance was replaced. */
  nextToolCallId(): number;
  /** Tool calls of this agent issued and not yet answered. */
  pendingToolCalls(): number;
  timerFired(host: InstanceHost, timerId: number): void;
  /** The agent's send rate (agents.send_rate): take() false means over it, and send_message returns -3. */
  readonly sends: { take(): boolean };
}

/** Marks a timer that fired and waits in the mailbox: cancel still stops it being handled. */
const FIRED = Symbol('fired');
const MAX_I32 = 0x7fffffff;

/**
 * Fuel charged for host work, so that what a host call does counts against the invocation's fuel and
 * wall-clock bounds as the agent's own instructions do. Bytes the host reads, decodes, parses or fills cost as
 * memory.fill's bytes do (fuel-instrument.mjs: 1 unit per 4 bytes). A log line costs about what making and
 * storing it takes (~1.3 µs measured, ~3,700 units at ~0.35 ns each): 16 MiB of newlines through fd_write
 * made 16.7 million lines in one call, 21.8 s with the thread held.
 */
export const HOST_BYTES_PER_FUEL = 4;
export const LOG_LINE_FUEL = 2_048;

/** Where host work is charged: the instance's fuel meter. charge() throws (a trap) past its bounds. */
export interface HostWorkMeter {
  charge(units: number): void;
}

export class InstanceHost {
  /** Sends of the current invocation, committed or discarded by the runtime. */
  readonly outbox: AclMessage[] = [];
  /** Tool calls of the current invocation, issued or discarded by the runtime. */
  readonly toolCalls: ToolCallRequest[] = [];
  readonly bindings: HostBindings;
  /**
   * The span of the invocation running now, when it is traced: stamped as `trace_context` on the messages
   * and tool calls it makes, so they continue its trace. Set and cleared by the invoker.
   */
  traceparent: string | undefined = undefined;
  /** The agent's name in UTF-8, made when the agent first asks for it (most never do). */
  private nameBytes: Buffer | undefined;
  /** `,"sender":"<name>","message_id":"`: the start of the host's fields spliced into an agent's send. */
  private readonly stampPrefix: string;
  private readonly stampPrefixAscii: boolean;
  private memory: WebAssembly.Memory | null = null;
  // A Buffer over the memory, rebuilt only when the memory grew. Growing detaches the old ArrayBuffer, so a
  // zero-length view is the sign, and the `memory.buffer` getter (a call into the engine) is not asked for
  // every access. A shared memory does not detach when it grows: it is asked every time.
  private sharedMemory = false;
  private view: Buffer = Buffer.alloc(0);
  private readonly timers = new Map<number, unknown>();
  private nextTimerId = 1;
  private readonly stdio = new Map<number, { decoder: TextDecoder; pending: string }>();
  /** Null for a module compiled without metering (tests of the unmetered baseline). */
  private meter: HostWorkMeter | null = null;

  constructor(bindings: HostBindings) {
    this.bindings = bindings;
    this.stampPrefix = `,"sender":${JSON.stringify(bindings.agentName)},"message_id":"`;
    // Measured, not encoded: a new instance per evicted agent made a TextEncoder array (its own ArrayBuffer)
    // each, ~7% of the time of re-instantiating 100,000 agents.
    this.stampPrefixAscii = Buffer.byteLength(bindings.agentName, 'utf8') === bindings.agentName.length;
  }

  /** Timers set and not yet handled: an instance with any cannot be evicted without losing them. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Host work of this instance is charged to `meter` from now on. */
  chargeTo(meter: HostWorkMeter): void {
    this.meter = meter;
  }

  /** Charges `bytes` of host work (read, decoded, filled) to the invocation; throws (a trap) past its bounds. */
  chargeBytes(bytes: number): void {
    this.meter?.charge(Math.ceil(bytes / HOST_BYTES_PER_FUEL));
  }

  /** A log line the agent caused, inside an invocation: charged, then logged. */
  private agentLog(level: AgentLogLevel, text: string): void {
    this.meter?.charge(LOG_LINE_FUEL);
    this.bindings.log(level, text);
  }

  attachMemory(memory: WebAssembly.Memory): void {
    this.memory = memory;
    this.sharedMemory = !(memory.buffer instanceof ArrayBuffer);
    this.view = Buffer.alloc(0);
  }

  /** The agent's memory as a Buffer, current after any growth. */
  bytes(): Buffer {
    if (this.view.length === 0 || this.sharedMemory) {
      const buffer = this.memory?.buffer;
      if (buffer !== undefined && buffer !== this.view.buffer) this.view = Buffer.from(buffer);
    }
    return this.view;
  }

  /** True when [ptr, ptr+len) lies inside the memory; both are read as unsigned i32. */
  inRange(ptr: number, len: number): boolean {
    return (ptr >>> 0) + (len >>> 0) <= this.bytes().length;
  }

  /** Called when a fired timer reaches the front of the mailbox: true if it was not cancelled meanwhile. */
  takeFiredTimer(timerId: number): boolean {
    if (this.timers.get(timerId) !== FIRED) return false;
    this.timers.delete(timerId);
    return true;
  }

  /** Drops collected sends and tool calls (a trap, or before the next invocation). */
  discardEffects(): void {
    this.outbox.length = 0;
    this.toolCalls.length = 0;
  }

  /** The instance is thrown away: its timers die with it, partial stdout lines are written out. */
  dispose(): void {
    for (const handle of this.timers.values()) if (handle !== FIRED) this.bindings.timers.clear(handle);
    this.timers.clear();
    for (const [fd, stream] of this.stdio) {
      const rest = stream.pending + stream.decoder.decode();
      if (rest) this.bindings.log(fd === 2 ? 'warn' : 'info', rest);
    }
    this.stdio.clear();
    this.memory = null;
    this.view = Buffer.alloc(0);
  }

  /** Text written by the WASI shim to fd 1/2, logged one line at a time. */
  writeStdio(fd: number, chunk: Uint8Array): void {
    let stream = this.stdio.get(fd);
    if (!stream) {
      stream = { decoder: new TextDecoder('utf-8'), pending: '' };
      this.stdio.set(fd, stream);
    }
    const level: AgentLogLevel = fd === 2 ? 'warn' : 'info';
    let text = stream.pending + stream.decoder.decode(chunk, { stream: true });
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.agentLog(level, text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    const max = this.bindings.limits.maxLogLineChars;
    while (text.length >= max) {
      this.agentLog(level, text.slice(0, max));
      text = text.slice(max);
    }
    stream.pending = text;
  }

  /** Flushes a partial line of fd 1/2 (fd_close). */
  flushStdio(fd: number): void {
    const stream = this.stdio.get(fd);
    if (!stream) return;
    const rest = stream.pending + stream.decoder.decode();
    stream.pending = '';
    if (rest) this.agentLog(fd === 2 ? 'warn' : 'info', rest);
  }

  /** The import object of module `caxton`. */
  caxtonImports(): Record<string, (...args: never[]) => unknown> {
    return {
      // The method itself (an arrow field), not a wrapper that calls it: one JS frame less per send.
      send_message: this.sendMessage,
      log: (level: number, ptr: number, len: number) => this.log(level, ptr, len),
      now_micros: () => BigInt(Math.round(this.bindings.now() * 1000)),
      random_fill: (ptr: number, len: number) => this.randomFill(ptr, len),
      set_timer: (delayMs: number) => this.setTimer(delayMs),
      cancel_timer: (timerId: number) => this.cancelTimer(timerId),
      agent_name: (ptr: number, cap: number) => this.agentName(ptr, cap),
      call_tool: (ptr: number, len: number) => this.callTool(ptr, len),
    };
  }

  private readText(ptr: number, len: number): string {
    const start = ptr >>> 0;
    return readUtf8(this.bytes(), start, start + (len >>> 0));
  }

  private readJson(ptr: number, len: number): unknown {
    return parseJson(this.readText(ptr, len));
  }

  private readonly sendMessage = (ptr: number, len: number): number => {
    if (!this.inRange(ptr, len)) return AbiError.INVALID_ARGUMENT;
    if (len >>> 0 > this.bindings.limits.maxMessageBytes) return AbiError.TOO_LARGE;
    if (this.outbox.length >= this.bindings.limits.maxOutboxPerInvocation) return AbiError.QUOTA_EXCEEDED;
    if (!this.bindings.sends.take()) return AbiError.QUOTA_EXCEEDED;
    this.chargeBytes(len >>> 0);
    const text = this.readText(ptr, len);
    const value = parseJson(text);
    if (value === undefined) {
      this.agentLog('warn', 'send_message refused: not valid JSON');
      return AbiError.INVALID_ARGUMENT;
    }
    const parsed = parseMessage(value);
    if (!parsed.ok) {
      this.agentLog('warn', `send_message refused: ${parsed.message}`);
      return AbiError.INVALID_ARGUMENT;
    }
    // Stamped in place: the parsed object is this send's own. Its delivered text is the agent's with the
    // host's fields spliced in, when that is exact (wire-text.ts); otherwise it is serialized on delivery.
    const message = parsed.message as AclMessage;
    const close = spliceIndex(message, text);
    const id = randomUuid();
    message.sender = this.bindings.agentName;
    message.message_id = id;
    // A new conversation is named after the message that opens it: unique already, and one UUID less per send.
    const opens = message.conversation_id === undefined;
    if (opens) message.conversation_id = id;
    const traceparent = this.traceparent;
    // An agent that names a trace_context itself keeps it; otherwise its sends continue the invocation's trace.
    const traced = traceparent !== undefined && message.trace_context === undefined;
    if (traced) message.trace_context = { traceparent };
    if (close !== -1) {
      // As many UTF-16 units as bytes, and no U+FFFD standing in for a bad byte: the agent's text is ASCII.
      const ascii = this.stampPrefixAscii && text.length === len >>> 0 && text.indexOf('\uFFFD') === -1;
      let hostFields = opens ? `${this.stampPrefix}${id}","conversation_id":"${id}"` : `${this.stampPrefix}${id}"`;
      // Quoted by JSON.stringify, not pasted: the traceparent came with a message, and text that closes the
      // string here would set fields of this one (a sender, once).
      if (traced) hostFields += `,"trace_context":{"traceparent":${JSON.stringify(traceparent)}}`;
      rememberSpliced(message, text, close, hostFields, ascii);
    }
    this.outbox.push(message);
    return 0;
  };

  private log(level: number, ptr: number, len: number): void {
    if (!this.inRange(ptr, len)) return;
    const start = ptr >>> 0;
    const end = start + Math.min(len >>> 0, this.bindings.limits.maxLogLineChars * 4);
    this.chargeBytes(end - start);
    let text = this.bytes().toString('utf8', start, end);
    if (text.length > this.bindings.limits.maxLogLineChars) text = text.slice(0, this.bindings.limits.maxLogLineChars);
    this.agentLog(LOG_LEVELS[Math.min(Math.max(level | 0, 0), LOG_LEVELS.length - 1)], text);
  }

  private randomFill(ptr: number, len: number): number {
    if (!this.inRange(ptr, len)) return AbiError.INVALID_ARGUMENT;
    this.chargeBytes(len >>> 0);
    randomFillSync(this.bytes(), ptr >>> 0, len >>> 0);
    return 0;
  }

  private setTimer(delayMs: number): number {
    if (delayMs < 0) return AbiError.INVALID_ARGUMENT;
    if (this.timers.size >= this.bindings.limits.maxTimersPerAgent || this.nextTimerId > MAX_I32) {
      return AbiError.QUOTA_EXCEEDED;
    }
    const id = this.nextTimerId++;
    const handle = this.bindings.timers.set(() => {
      if (!this.timers.has(id)) return;
      this.timers.set(id, FIRED);
      this.bindings.timerFired(this, id);
    }, delayMs);
    this.timers.set(id, handle);
    return id;
  }

  private cancelTimer(timerId: number): number {
    const handle = this.timers.get(timerId);
    if (handle === undefined) return AbiError.NOT_FOUND;
    if (handle !== FIRED) this.bindings.timers.clear(handle);
    this.timers.delete(timerId);
    return 0;
  }

  private agentName(ptr: number, cap: number): number {
    if (!this.inRange(ptr, cap)) return AbiError.INVALID_ARGUMENT;
    const name = (this.nameBytes ??= Buffer.from(this.bindings.agentName, 'utf8'));
    if (name.length <= cap >>> 0) this.bytes().set(name, ptr >>> 0);
    return name.length;
  }

  private callTool(ptr: number, len: number): number {
    if (!this.inRange(ptr, len)) return AbiError.INVALID_ARGUMENT;
    if (len >>> 0 > this.bindings.limits.maxMessageBytes) return AbiError.TOO_LARGE;
    this.chargeBytes(len >>> 0);
    const request = parseToolCall(this.readJson(ptr, len));
    if (typeof request === 'string') {
      this.agentLog('warn', `call_tool refused: ${request}`);
      return AbiError.INVALID_ARGUMENT;
    }
    if (!this.bindings.toolGranted(request.server, request.tool)) {
      this.bindings.permissionDenied(`tool ${request.server}/${request.tool}`);
      return AbiError.PERMISSION_DENIED;
    }
    if (this.bindings.pendingToolCalls() + this.toolCalls.length >= this.bindings.limits.maxPendingToolCalls) {
      return AbiError.QUOTA_EXCEEDED;
    }
    const id = this.bindings.nextToolCallId();
    const traceparent = this.traceparent;
    this.toolCalls.push(traceparent === undefined ? { id, ...request } : { id, ...request, traceparent });
    return id;
  }
}

/** The value of a JSON text, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `{"server": S, "tool": T, "arguments"?: {...}}`, or the reason it is not. */
function parseToolCall(value: unknown): Omit<ToolCallRequest, 'id'> | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const { server, tool, arguments: args, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return `unknown field ${unknown.join(',')}`;
  if (typeof server !== 'string' || server.length === 0) return 'server: must be a non-empty string';
  if (typeof tool !== 'string' || tool.length === 0) return 'tool: must be a non-empty string';
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return 'arguments: must be an object';
  }
  // As a message's content is: a structure thousands deep cannot be posted between threads (the structured
  // clone overflows its stack), and on an agent worker it took every other report of that batch with it.
  if (nestedDeeperThan(args, MAX_CONTENT_DEPTH)) return `arguments: nested deeper than ${MAX_CONTENT_DEPTH} levels of objects and arrays`;
  return { server, tool, arguments: (args ?? {}) as Record<string, unknown> };
}

// Test helpers: WAT agents compiled in-test with wabt, a recording sink, hand-driven timers and clock.
import type { MessageSink } from '../../src/messaging/delivery.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import type { AgentSpec } from '../../src/node/services.ts';
import type { TimerScheduler } from '../../src/agents/host-imports.ts';
import { sha256Hex } from '../../src/agents/module-cache.ts';

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;
let wabtPromise: Promise<Wabt> | undefined;

export async function wat(source: string): Promise<Uint8Array> {
  wabtPromise ??= import('wabt').then((m) => m.default());
  const wabt = await wabtPromise;
  const module = wabt.parseWat('agent.wat', source, { bulk_memory: true });
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** Escapes a JS string as a WAT string literal body (UTF-8 bytes). */
function watString(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `\\${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export interface AgentParts {
  /** Body of handle_message(param $ptr i32) (param $len i32) (result i32). */
  handle?: string;
  /** Body of agent_init (result i32); absent = no export. */
  init?: string;
  /** Body of handle_timer (param $id i32); absent = no export. */
  timer?: string;
  /** Body of agent_shutdown; absent = no export. */
  shutdown?: string;
  /** Extra module fields (imports must come first: use `imports`). */
  extra?: string;
  imports?: string;
  memoryPages?: number;
}

/**
 * A WAT agent. `parts` gets `s(text)`, which places `text` in memory and returns `(i32.const ptr) (i32.const len)`.
 * Helpers inside the module: $send/$log/... (the caxton imports), $report(label ptr, len, value) logs
 * "label=value", $contains(ptr, len, pat ptr, pat len) -> i32, $copy(dst, src, n), global $inits.
 * agent_alloc always answers 65536 (one message at a time), or 0 above 128 KiB.
 */
export async function agentModule(build: (s: (text: string) => string) => AgentParts): Promise<Uint8Array> {
  const data: string[] = [];
  let next = 0x4000;
  const s = (text: string): string => {
    const len = new TextEncoder().encode(text).length;
    const addr = next;
    next += len + 8;
    data.push(`(data (i32.const ${addr}) "${watString(text)}")`);
    return `(i32.const ${addr}) (i32.const ${len})`;
  };
  const p = build(s);
  const source = `(module
  (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
  (import "caxton" "log" (func $log (param i32 i32 i32)))
  (import "caxton" "now_micros" (func $now (result i64)))
  (import "caxton" "random_fill" (func $random (param i32 i32) (result i32)))
  (import "caxton" "set_timer" (func $set_timer (param i32) (result i32)))
  (import "caxton" "cancel_timer" (func $cancel_timer (param i32) (result i32)))
  (import "caxton" "agent_name" (func $agent_name (param i32 i32) (result i32)))
  (import "caxton" "call_tool" (func $call_tool (param i32 i32) (result i32)))
  ${p.imports ?? ''}
  (memory (export "memory") ${p.memoryPages ?? 3})
  (global $inits (mut i32) (i32.const 0))
  ${data.join('\n  ')}
  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
      (local.set $src (i32.add (local.get $src) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l))))
  (func $index (param $p i32) (param $n i32) (param $pat i32) (param $m i32) (result i32)
    (local $i i32) (local $j i32)
    (block $none (loop $outer
      (br_if $none (i32.gt_s (local.get $i) (i32.sub (local.get $n) (local.get $m))))
      (local.set $j (i32.const 0))
      (block $miss (loop $inner
        (if (i32.eq (local.get $j) (local.get $m)) (then (return (local.get $i))))
        (br_if $miss (i32.ne
          (i32.load8_u (i32.add (local.get $p) (i32.add (local.get $i) (local.get $j))))
          (i32.load8_u (i32.add (local.get $pat) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $inner)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $outer)))
    (i32.const -1))
  (func $contains (param $p i32) (param $n i32) (param $pat i32) (param $m i32) (result i32)
    (i32.ge_s (call $index (local.get $p) (local.get $n) (local.get $pat) (local.get $m)) (i32.const 0)))
  (func $report (param $lp i32) (param $ll i32) (param $v i32)
    (local $o i32) (local $t i32) (local $c i32)
    (call $copy (i32.const 0x3000) (local.get $lp) (local.get $ll))
    (local.set $o (i32.add (i32.const 0x3000) (local.get $ll)))
    (i32.store8 (local.get $o) (i32.const 61))
    (local.set $o (i32.add (local.get $o) (i32.const 1)))
    (if (i32.lt_s (local.get $v) (i32.const 0)) (then
      (i32.store8 (local.get $o) (i32.const 45))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (local.set $v (i32.sub (i32.const 0) (local.get $v)))))
    (local.set $t (i32.const 0x3f00))
    (loop $d
      (local.set $t (i32.sub (local.get $t) (i32.const 1)))
      (i32.store8 (local.get $t) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $d (i32.ne (local.get $v) (i32.const 0))))
    (local.set $c (i32.sub (i32.const 0x3f00) (local.get $t)))
    (call $copy (local.get $o) (local.get $t) (local.get $c))
    (call $log (i32.const 2) (i32.const 0x3000) (i32.sub (i32.add (local.get $o) (local.get $c)) (i32.const 0x3000))))
  (func (export "agent_alloc") (param $len i32) (result i32)
    (if (result i32) (i32.gt_u (local.get $len) (i32.const 131072)) (then (i32.const 0)) (else (i32.const 65536))))
  (func (export "handle_message") (param $ptr i32) (param $len i32) (result i32)
    ${p.handle ?? '(i32.const 0)'})
  ${p.init !== undefined ? `(func (export "agent_init") (result i32) (global.set $inits (i32.add (global.get $inits) (i32.const 1))) ${p.init})` : ''}
  ${p.timer !== undefined ? `(func (export "handle_timer") (param $id i32) ${p.timer})` : ''}
  ${p.shutdown !== undefined ? `(func (export "agent_shutdown") ${p.shutdown})` : ''}
  ${p.extra ?? ''}
)`;
  return wat(source);
}

/** Replies `inform` "pong" to whoever sent the message (and claims to be "mallory", which the host ignores). */
export function echoAgent(): Promise<Uint8Array> {
  return agentModule((s) => ({
    handle: `
      (local $at i32) (local $end i32) (local $o i32)
      (local.set $at (call $index (local.get $ptr) (local.get $len) ${s('"sender":"')}))
      (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const 1))))
      (local.set $at (i32.add (local.get $ptr) (i32.add (local.get $at) (i32.const 10))))
      (local.set $end (local.get $at))
      (block $b (loop $l
        (br_if $b (i32.eq (i32.load8_u (local.get $end)) (i32.const 34)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $l)))
      (call $copy (i32.const 0x1000) ${s('{"performative":"inform","sender":"mallory","content":"pong","receiver":"')})
      (local.set $o (i32.add (i32.const 0x1000) (i32.const ${'{"performative":"inform","sender":"mallory","content":"pong","receiver":"'.length})))
      (call $copy (local.get $o) (local.get $at) (i32.sub (local.get $end) (local.get $at)))
      (local.set $o (i32.add (local.get $o) (i32.sub (local.get $end) (local.get $at))))
      (call $copy (local.get $o) ${s('"}')})
      (local.set $o (i32.add (local.get $o) (i32.const 2)))
      (drop (call $send (i32.const 0x1000) (i32.sub (local.get $o) (i32.const 0x1000))))
      (i32.const 0)`,
  }));
}

export class RecordingSink implements MessageSink {
  readonly messages: AclMessage[] = [];
  route(message: AclMessage): void {
    this.messages.push(message);
  }
}

/** Timers fired by `advance`, in due order (ties in the order they were set). */
export class ManualTimers implements TimerScheduler {
  now = 0;
  private seq = 0;
  private pending = new Map<number, { due: number; seq: number; callback: () => void }>();
  set(callback: () => void, delayMs: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { due: this.now + delayMs, seq: id, callback });
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  get size(): number {
    return this.pending.size;
  }
  advance(ms: number): void {
    this.now += ms;
    const due = [...this.pending.entries()].filter(([, t]) => t.due <= this.now).sort((a, b) => a[1].due - b[1].due || a[1].seq - b[1].seq);
    for (const [id, t] of due) {
      this.pending.delete(id);
      t.callback();
    }
  }
}

export class ManualClock {
  constructor(public ms = Date.parse('2025-01-01T00:00:00Z')) {}
  now(): number {
    return this.ms;
  }
}

export function spec(name: string, overrides: Partial<AgentSpec> = {}): AgentSpec {
  return {
    name,
    capabilities: [],
    tools: {},
    limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 1000 },
    ...overrides,
  };
}

let seq = 0;
export function message(to: string, fields: Partial<AclMessage> = {}): AclMessage {
  seq++;
  return {
    performative: 'request',
    sender: 'client:alice',
    receiver: to,
    content: 'ping',
    message_id: `m-${seq}`,
    conversation_id: `c-${seq}`,
    ...fields,
  };
}

export function sha(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}

import { AgentRuntime } from '../../src/agents/agent-runtime.ts';
import type { AgentRuntimeOptions } from '../../src/agents/agent-runtime.ts';

export function setup(options: Partial<AgentRuntimeOptions> = {}) {
  const sink = new RecordingSink();
  const timers = new ManualTimers();
  const clock = new ManualClock();
  const runtime = new AgentRuntime({ nodeId: 'node-1', sink, timers, clock, ...options });
  const deploy = (name: string, bytes: Uint8Array, overrides: Partial<AgentSpec> = {}) =>
    runtime.start(spec(name, overrides), sha(bytes), 1, bytes);
  const logText = (name: string) => runtime.logs(name, 0, 1000).map((l) => l.message);
  return { runtime, sink, timers, clock, deploy, logText };
}

/** Sends an inform to `b` and calls tool mem/get; on the tool's result (`"tool:mem"`), sends `b` an inform again. */
export function toolCallingAgent(): Promise<Uint8Array> {
  return agentModule((s) => ({
    handle: `
      (if (call $contains (local.get $ptr) (local.get $len) ${s('"tool:mem"')})
        (then (drop (call $send ${s('{"performative":"inform","receiver":"b","content":"after tool"}')})))
        (else
          (drop (call $send ${s('{"performative":"inform","receiver":"b"}')}))
          (drop (call $call_tool ${s('{"server":"mem","tool":"get"}')}))))
      (i32.const 0)`,
  }));
}

/** A router for a pool under test: records every message in `sink`, then delivers it when the pool runs its receiver. */
export function recordingRouter(sink: RecordingSink, pool: () => { has(name: string): boolean; deliver(m: AclMessage, to: string): unknown }): MessageSink {
  return {
    route(m: AclMessage) {
      sink.route(m);
      const to = m.receiver as string;
      if (pool().has(to)) pool().deliver(m, to);
    },
  };
}

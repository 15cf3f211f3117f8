// Running one invocation of an agent (init, message, timer, shutdown) and what follows from how it
// ended: commit its sends and tool calls, or discard them and count a trap; answer a request the agent
// could not handle. Nothing here decides when an agent runs; the scheduler does.
import type { MessageSink } from '../messaging/delivery.ts';
import type { AclMessage } from '../messaging/message.ts';
import { CAPABILITY_PREFIX, EXPECTS_REPLY } from '../messaging/message.ts';
import type { HostErrorCode } from '../messaging/replies.ts';
import { failureReply } from '../messaging/replies.ts';
import type { AgentSpec } from './agent-types.ts';
import { AgentAllocError, AgentInstance } from './agent-instance.ts';
import type { AgentSlot, Clock, FiredTimer } from './agent-slot.ts';
import type { AgentLogLevel } from './host-imports.ts';
import type { InvocationTracer, TraceScope } from './invocation-tracer.ts';
import { InstanceHost } from './host-imports.ts';
import type { CompiledAgentModule } from './module-cache.ts';
import type { InvocationKind, InvocationOutcome, RuntimeLogger, RuntimeObserver } from './runtime-observer.ts';
import { StartFailure } from './start-failure.ts';
import type { ToolCalls } from './tool-calls.ts';
import type { TrapInfo } from './trap-reason.ts';
import type { RuntimeLimits } from './runtime-defaults.ts';
import type { SpareMemories } from './spare-memories.ts';
import { classifyTrap } from './trap-reason.ts';
import { WireTextError, wireByteLengthOf, wireTextOf } from '../messaging/wire-text.ts';

export interface InvocationServices {
  readonly observer: RuntimeObserver;
  readonly logger: RuntimeLogger;
  readonly clock: Clock;
  readonly sink: MessageSink;
  readonly tools: ToolCalls;
  readonly limits: Pick<RuntimeLimits, 'maxTraps' | 'trapWindowMs'>;
  appendLog(slot: AgentSlot, level: AgentLogLevel, message: string): void;
  /** The agent trapped limits.maxTraps times within limits.trapWindowMs. */
  failAgent(slot: AgentSlot): void;
  /** A fresh instance now serves the agent (after a trap, an eviction, or on its first message). */
  instanceStarted?(slot: AgentSlot): void;
  /** Where new instances get their memory: an evicted instance's when there is one. */
  readonly memories?: SpareMemories;
  /** Spans of traced invocations; absent when tracing is off. */
  readonly tracer?: InvocationTracer;
}

const NO_TRAP = Symbol('no trap');

/** Whether more than one agent may be handed this message: its serialized text is then kept for the next. */
function mayHaveSeveralReceivers(message: AclMessage): boolean {
  return typeof message.receiver !== 'string' || message.receiver.startsWith(CAPABILITY_PREFIX);
}

export class Invoker {
  /** Clock reads around message and timer invocations only when an observer uses the durations. */
  private readonly timed: boolean;
  /** durationSampleEvery - 1 (a mask), or -1 when no invocation is sampled. */
  private readonly sampleMask: number;
  private ticks = 0;
  private readonly tracer: InvocationTracer | undefined;

  constructor(private readonly services: InvocationServices) {
    this.timed = services.observer.wantsDurations !== false;
    const every = services.observer.durationSampleEvery ?? 0;
    this.sampleMask = every > 0 ? 2 ** Math.ceil(Math.log2(every)) - 1 : -1;
    this.tracer = services.tracer;
  }

  /** Whether this invocation is timed: all of them, or one in durationSampleEvery. */
  private timeThis(): boolean {
    return this.timed || (this.sampleMask >= 0 && (++this.ticks & this.sampleMask) === 0);
  }

  runMessage(slot: AgentSlot, message: AclMessage): void {
    const tracer = this.tracer;
    if (tracer === undefined) {
      // Tracing off here: a trace begun elsewhere still goes on through this node's agents (W3C: pass it on).
      const carried = message.trace_context?.traceparent;
      if (carried === undefined) this.invokeMessage(slot, message);
      else this.tracedMessage(slot, message, undefined, carried);
      return;
    }
    const scope = tracer.startInvocation(slot.name, message);
    const traceparent = scope !== undefined ? scope.traceparent : message.trace_context?.traceparent;
    if (traceparent === undefined) this.invokeMessage(slot, message);
    else this.tracedMessage(slot, message, scope, traceparent);
  }

  /**
   * The invocation inside its span: its sends and tool calls (committed before the span ends) are children of
   * it. Without a span (a trace not recorded) they carry the message's traceparent on, unchanged.
   */
  private tracedMessage(slot: AgentSlot, message: AclMessage, scope: TraceScope | undefined, traceparent: string): void {
    this.traceparent = traceparent;
    let outcome: InvocationOutcome = 'error';
    try {
      outcome = this.invokeMessage(slot, message);
    } finally {
      this.traceparent = undefined;
      const instance = slot.instance;
      if (instance !== null) instance.host.traceparent = undefined;
      scope?.end(outcome);
    }
  }

  /** The traceparent of the traced invocation running now (set only when tracing is on). */
  private traceparent: string | undefined = undefined;

  private invokeMessage(slot: AgentSlot, message: AclMessage): InvocationOutcome {
    const instance = this.ensureInstance(slot);
    if (instance === null) {
      this.replyFailure(slot, message, 'AGENT_ERROR', `agent "${slot.name}" could not start a fresh instance`);
      return 'error';
    }
    let json: string;
    try {
      json = wireTextOf(message, mayHaveSeveralReceivers(message));
    } catch (err) {
      if (!(err instanceof WireTextError)) throw err;
      this.replyFailure(slot, message, 'INVALID_MESSAGE', err.message, { field: err.field });
      return 'error';
    }
    instance.host.traceparent = this.traceparent;
    const timed = this.timeThis();
    const started = timed ? performance.now() : 0;
    let trap: unknown = NO_TRAP;
    let result = 0;
    let error: string | null = null;
    try {
      result = instance.deliver(json, wireByteLengthOf(message));
    } catch (err) {
      if (err instanceof AgentAllocError) error = err.message;
      else trap = err;
    }
    const durationNs = timed ? (performance.now() - started) * 1e6 : 0;
    if (trap !== NO_TRAP) {
      this.trapped(slot, instance, classifyTrap(trap, instance.meter?.cause()), 'message', durationNs, message);
      return 'trap';
    }
    slot.stats.invocations++;
    if (instance.meter) slot.stats.fuel_used += instance.meter.used();
    this.commit(slot, instance.host);
    if (error === null && result !== 0) error = `handle_message returned ${result}`;
    if (error !== null) {
      slot.stats.last_error = error;
      this.replyFailure(slot, message, 'AGENT_ERROR', error, { result });
    }
    const outcome = error === null ? 'ok' : 'error';
    this.services.observer.onInvocation(slot.name, 'message', durationNs, outcome);
    return outcome;
  }

  runTimer(slot: AgentSlot, timer: FiredTimer): void {
    const instance = slot.instance;
    if (!instance || instance.host !== timer.host || !instance.host.takeFiredTimer(timer.timerId)) return;
    if (slot.stopping || !instance.hasTimerHandler) return;
    const timed = this.timeThis();
    const started = timed ? performance.now() : 0;
    try {
      instance.handleTimer(timer.timerId);
    } catch (err) {
      return this.trapped(slot, instance, classifyTrap(err, instance.meter?.cause()), 'timer', timed ? (performance.now() - started) * 1e6 : 0);
    }
    const durationNs = timed ? (performance.now() - started) * 1e6 : 0;
    slot.stats.invocations++;
    if (instance.meter) slot.stats.fuel_used += instance.meter.used();
    this.commit(slot, instance.host);
    this.services.observer.onInvocation(slot.name, 'timer', durationNs, 'ok');
  }

  /** The live instance, or a fresh one after a trap; null (and a recorded trap) when it cannot start. */
  private ensureInstance(slot: AgentSlot): AgentInstance | null {
    if (slot.instance) return slot.instance;
    try {
      const instance = this.startInstance(slot, slot.compiled!, slot.spec);
      slot.instance = instance;
      this.services.instanceStarted?.(slot);
      this.commit(slot, instance.host);
      return instance;
    } catch (err) {
      const info = err instanceof StartFailure ? err.trap : classifyTrap(err);
      this.recordTrap(slot, info, 'init');
      return null;
    }
  }

  /** New host + instance + _initialize/agent_init. Effects stay in the host for the caller to commit. */
  startInstance(slot: AgentSlot, compiled: CompiledAgentModule, spec: AgentSpec): AgentInstance {
    const started = performance.now();
    let instance: AgentInstance | null = null;
    const host = new InstanceHost(slot.bindingsFor(spec));
    try {
      instance = new AgentInstance(compiled, host, spec.limits.fuel, this.services.memories?.take(compiled));
      const result = instance.init();
      if (result !== 0) {
        host.dispose();
        this.services.observer.onInvocation(slot.name, 'init', (performance.now() - started) * 1e6, 'error');
        throw new StartFailure({ reason: 'init_failed', detail: `agent_init returned ${result}` }, 'agent_init', result);
      }
    } catch (err) {
      if (err instanceof StartFailure) throw err;
      host.discardEffects();
      host.dispose();
      this.services.observer.onInvocation(slot.name, 'init', (performance.now() - started) * 1e6, 'trap');
      throw new StartFailure(classifyTrap(err, instance?.meter?.cause()), instance ? 'agent_init' : 'instantiate');
    }
    this.services.observer.onInvocation(slot.name, 'init', (performance.now() - started) * 1e6, 'ok');
    return instance;
  }

  runShutdown(slot: AgentSlot, instance: AgentInstance): void {
    const started = performance.now();
    let outcome: 'ok' | 'trap' = 'ok';
    try {
      instance.shutdown();
      this.commit(slot, instance.host);
    } catch (err) {
      outcome = 'trap';
      instance.host.discardEffects();
      const info = classifyTrap(err, instance.meter?.cause());
      this.services.appendLog(slot, 'error', `trapped in agent_shutdown: ${info.reason}: ${info.detail}`);
    }
    instance.host.dispose();
    this.services.observer.onInvocation(slot.name, 'shutdown', (performance.now() - started) * 1e6, outcome);
  }

  commit(slot: AgentSlot, host: InstanceHost): void {
    const outbox = host.outbox;
    if (outbox.length > 0) {
      slot.stats.messages_out += outbox.length;
      for (let i = 0; i < outbox.length; i++) this.route(outbox[i]);
      // The usual outbox holds one send: pop() is inlined, while the `length` setter is a call into the
      // engine, measured at ~1.4% of a hop between two agents of one worker.
      if (outbox.length === 1) outbox.pop();
      else outbox.length = 0;
    }
    if (host.toolCalls.length > 0) {
      for (const call of host.toolCalls) this.services.tools.issue(slot, call);
      host.toolCalls.length = 0;
    }
  }

  private trapped(slot: AgentSlot, instance: AgentInstance, info: TrapInfo, kind: InvocationKind, durationNs: number, message?: AclMessage): void {
    instance.host.discardEffects();
    instance.host.dispose();
    if (slot.instance === instance) slot.instance = null;
    slot.stats.invocations++;
    if (instance.meter) slot.stats.fuel_used += instance.meter.used();
    this.services.observer.onInvocation(slot.name, kind, durationNs, 'trap');
    if (message) this.replyFailure(slot, message, 'AGENT_TRAPPED', `agent "${slot.name}" trapped: ${info.reason}`, { reason: info.reason });
    this.recordTrap(slot, info, kind);
  }

  /** Counts a trap; the maxTraps-th within trapWindowMs makes the agent `failed`. */
  private recordTrap(slot: AgentSlot, info: TrapInfo, kind: InvocationKind): void {
    slot.stats.traps++;
    slot.stats.traps_by_reason[info.reason] = (slot.stats.traps_by_reason[info.reason] ?? 0) + 1;
    slot.stats.last_error = `trap in ${kind} (${info.reason}): ${info.detail}`;
    this.services.appendLog(slot, 'error', slot.stats.last_error);
    this.services.logger.warn({ agent: slot.name, reason: info.reason, kind }, 'agent trapped');
    this.services.observer.onTrap(slot.name, info.reason);
    const now = this.services.clock.now();
    const { maxTraps, trapWindowMs } = this.services.limits;
    slot.trapTimes.push(now);
    if (slot.trapTimes.length > maxTraps) slot.trapTimes.shift();
    if (slot.trapTimes.length === maxTraps && now - slot.trapTimes[0] <= trapWindowMs) this.services.failAgent(slot);
  }

  replyFailure(slot: AgentSlot, original: AclMessage, code: HostErrorCode, text: string, details?: Record<string, unknown>): void {
    if (!EXPECTS_REPLY.has(original.performative)) return;
    this.route(failureReply(original, slot.name, code, text, details));
  }

  route(message: AclMessage): void {
    try {
      this.services.sink.route(message);
    } catch (err) {
      this.services.logger.error({ err, message_id: message.message_id }, 'routing a message from the agent runtime failed');
    }
  }
}

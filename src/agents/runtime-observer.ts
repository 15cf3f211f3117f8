// What the runtime reports to the layers above (metrics, audit, events): a tiny interface, so the runtime
// knows nothing of Prometheus or the audit log.
import type { AgentLogLine, AgentState } from './agent-types.ts';
import type { TrapReason } from './trap-reason.ts';

export type InvocationKind = 'init' | 'message' | 'timer' | 'shutdown';
/** ok: returned normally; error: the agent reported an error (non-zero, agent_alloc failed); trap: it trapped. */
export type InvocationOutcome = 'ok' | 'error' | 'trap';

export interface RuntimeObserver {
  /**
   * Whether onInvocation reads `durationNs`. Timing costs two clock reads per invocation, a visible part
   * of a local hop; when false (or no onInvocation is given) message and timer invocations are not timed
   * and report 0. Default true.
   */
  readonly wantsDurations?: boolean;
  /**
   * With wantsDurations false: time one message or timer invocation in this many (a power of two) for a
   * latency histogram at a 64th of the clock reads; the others report 0. Absent or 0: none timed.
   */
  readonly durationSampleEvery?: number;
  onInvocation(agent: string, kind: InvocationKind, durationNs: number, outcome: InvocationOutcome): void;
  /**
   * `count` invocations with one kind and outcome, reported at once (an agent worker's batch), of which
   * `timedNs.length` were timed, with these durations; the others report 0. Optional: without it each is
   * reported to onInvocation.
   */
  onInvocations?(agent: string, kind: InvocationKind, outcome: InvocationOutcome, count: number, timedNs: ArrayLike<number>): void;
  onTrap(agent: string, reason: TrapReason): void;
  onStateChange(agent: string, from: AgentState | null, to: AgentState): void;
  onLog(line: AgentLogLine): void;
  /** An agent tried something it was not granted (a tool): audit it. */
  onPermissionDenied(agent: string, what: string): void;
  /**
   * A tool call settled at the gateway boundary: `outcome` is `ok`, or the error code it failed with
   * (UNAVAILABLE, TIMEOUT, TOOL_ERROR, ...). Optional: an observer without it is not told.
   */
  onToolCall?(agent: string, server: string, tool: string, durationMs: number, outcome: string): void;
}

export const noopObserver: RuntimeObserver = {
  wantsDurations: false,
  onInvocation() {},
  onTrap() {},
  onStateChange() {},
  onLog() {},
  onPermissionDenied() {},
};

/** The pino-compatible subset the runtime logs through. */
export interface RuntimeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** An observer of guardedObserver: every callback there, the batched one included. */
export type GuardedObserver = RuntimeObserver & Required<Pick<RuntimeObserver, 'onInvocations'>>;

/**
 * The observer with every callback guarded: a failing metrics or audit hook is logged, never allowed to
 * break an invocation or the scheduler. Written out per callback: no rest-argument array per message.
 */
export function guardedObserver(observer: Partial<RuntimeObserver>, logger: RuntimeLogger): GuardedObserver {
  const o: RuntimeObserver = { ...noopObserver, ...observer };
  const report = (err: unknown, callback: string) => logger.error({ err, callback }, 'runtime observer failed');
  return {
    wantsDurations: observer.onInvocation !== undefined && observer.wantsDurations !== false,
    durationSampleEvery: observer.durationSampleEvery,
    onInvocation(agent, kind, durationNs, outcome) {
      try {
        o.onInvocation(agent, kind, durationNs, outcome);
      } catch (err) {
        report(err, 'onInvocation');
      }
    },
    onInvocations(agent, kind, outcome, count, timedNs) {
      if (o.onInvocations !== undefined) {
        try {
          o.onInvocations(agent, kind, outcome, count, timedNs);
        } catch (err) {
          report(err, 'onInvocations');
        }
        return;
      }
      // One by one, each guarded as onInvocation is (one failure does not lose the rest), logged once a batch.
      let failures = 0;
      let first: unknown;
      for (let i = 0; i < count; i++) {
        try {
          o.onInvocation(agent, kind, i < timedNs.length ? timedNs[i] : 0, outcome);
        } catch (err) {
          if (failures++ === 0) first = err;
        }
      }
      if (failures > 0) report(first, 'onInvocation');
    },
    onTrap(agent, reason) {
      try {
        o.onTrap(agent, reason);
      } catch (err) {
        report(err, 'onTrap');
      }
    },
    onStateChange(agent, from, to) {
      try {
        o.onStateChange(agent, from, to);
      } catch (err) {
        report(err, 'onStateChange');
      }
    },
    onLog(line) {
      try {
        o.onLog(line);
      } catch (err) {
        report(err, 'onLog');
      }
    },
    onPermissionDenied(agent, what) {
      try {
        o.onPermissionDenied(agent, what);
      } catch (err) {
        report(err, 'onPermissionDenied');
      }
    },
    onToolCall(agent, server, tool, durationMs, outcome) {
      try {
        o.onToolCall?.(agent, server, tool, durationMs, outcome);
      } catch (err) {
        report(err, 'onToolCall');
      }
    },
  };
}

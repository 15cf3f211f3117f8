// How the runtime reports the spans of its work (agent invocations, tool calls) without knowing
// OpenTelemetry: the node plugs in an implementation when tracing is on. When it is off the runtime holds
// `undefined` and each invocation pays one field test.
import type { AclMessage } from '../messaging/message.ts';
import type { InvocationOutcome } from './runtime-observer.ts';

/** One open span; `traceparent` is what work done inside it carries so that it becomes a child of it. */
export interface TraceScope {
  readonly traceparent: string;
  /** Ends the span: `outcome` is ok, error or trap for an invocation, ok or the error code for a tool call. */
  end(outcome: InvocationOutcome | string): void;
}

export interface InvocationTracer {
  /**
   * The span of `agent` handling `message`, a child of the message's `trace_context`; undefined when it is not
   * recorded (no trace_context, or a trace not sampled): the message's own traceparent is then passed on.
   */
  startInvocation(agent: string, message: AclMessage): TraceScope | undefined;
  /** The span of one tool call made by `agent`, a child of the invocation that made it; undefined when not recorded. */
  startToolCall(agent: string, server: string, tool: string, parentTraceparent: string): TraceScope | undefined;
}

/**
 * A span made on an agent worker, which has no exporter: its ids and times are fixed there (the invocation's
 * sends carry its traceparent before it ends), and the main thread's tracer records it as it was.
 */
export interface FinishedSpan {
  name: string;
  kind: 'consumer' | 'client';
  /** The parent's traceparent (sampled): the span's trace and parent. */
  parent: string;
  /** 16 hex digits, as in the traceparent the span's children carry. */
  spanId: string;
  /** Milliseconds since the epoch, fractions allowed. */
  startMs: number;
  endMs: number;
  /** As TraceScope.end's. */
  outcome: string;
  attributes: Record<string, string>;
}

/** Where the main thread records the spans its agent workers finished. */
export interface FinishedSpanRecorder {
  recordFinished(span: FinishedSpan): void;
}

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

// Spans of invocations and tool calls on an agent worker. A worker has no OpenTelemetry SDK (one per node, on
// the main thread): it makes the span's id and times here, so that the invocation's sends carry the span as
// their parent at once, and hands the finished span to the main thread, which records it as it was
// (NodeTracing.recordFinished). As in the main thread's tracer, only a sampled parent makes a span.
import type { AclMessage } from '../../messaging/message.ts';
import { formatTraceparent, looksSampled, parseTraceparent, randomSpanId } from '../../observability/trace-context.ts';
import type { FinishedSpan, InvocationTracer, TraceScope } from '../invocation-tracer.ts';

/** Wall-clock milliseconds since the epoch, sub-millisecond. */
const epochMs = (): number => performance.timeOrigin + performance.now();

export class WorkerInvocationTracer implements InvocationTracer {
  constructor(private readonly finished: (span: FinishedSpan) => void) {}

  startInvocation(agent: string, message: AclMessage): TraceScope | undefined {
    const parent = message.trace_context?.traceparent;
    if (parent === undefined) return undefined;
    return this.#start(`caxton.invoke ${agent}`, 'consumer', parent, {
      'caxton.agent': agent,
      'caxton.performative': message.performative,
      'caxton.sender': message.sender,
      'caxton.message_id': message.message_id,
    });
  }

  startToolCall(agent: string, server: string, tool: string, parentTraceparent: string): TraceScope | undefined {
    return this.#start(`caxton.tool_call ${server}/${tool}`, 'client', parentTraceparent, {
      'caxton.agent': agent,
      'caxton.tool.server': server,
      'caxton.tool.name': tool,
    });
  }

  #start(name: string, kind: FinishedSpan['kind'], parent: string, attributes: Record<string, string>): TraceScope | undefined {
    if (!looksSampled(parent)) return undefined;
    const context = parseTraceparent(parent);
    if (context === undefined) return undefined;
    const spanId = randomSpanId();
    const startMs = epochMs();
    const finished = this.finished;
    return {
      traceparent: formatTraceparent({ ...context, spanId }),
      end(outcome) {
        finished({ name, kind, parent, spanId, startMs, endMs: epochMs(), outcome, attributes });
      },
    };
  }
}

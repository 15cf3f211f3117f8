// OpenTelemetry tracing of one node: a span for each API call, routing decision, agent invocation, tool call
// and hop to another node, linked through the W3C `traceparent` that a message's `trace_context` carries.
// Spans are exported over OTLP/HTTP (JSON) in batches. Built only when `telemetry.otlp_endpoint` is set: a
// node without it holds no NodeTracing at all, and every call site tests one field for undefined.
//
// No global tracer provider and no context manager: several nodes share a test process, and parents travel
// explicitly in messages (the async-hooks context would cost on every callback of the process).
//
// Sampling is decided here, not by the SDK's sampler: a trace not recorded makes no span object at all. Its
// `traceparent` (sampled flag 00) is passed on unchanged, so the whole path agrees and no hop rolls the dice
// again; a new trace gets a random unrecorded traceparent. The SDK's span, even a non-recording one, costs
// ~4 µs per route+invoke pair (context objects, id generation): four times a local hop.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator, type IdGenerator, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FinishedSpan, FinishedSpanRecorder, InvocationTracer, TraceScope } from '../agents/invocation-tracer.ts';
import type { InvocationOutcome } from '../agents/runtime-observer.ts';
import { forgetWireText } from '../messaging/wire-text.ts';
import type { DeliveryOutcome } from '../messaging/delivery.ts';
import type { AclMessage } from '../messaging/message.ts';
import type { RemoteRoute, RouterObserver } from '../messaging/router-ports.ts';
import { formatTraceparent, isSpanId, looksSampled, parseTraceparent, unsampledTraceparent } from './trace-context.ts';

export interface TracingOptions {
  /** Where spans are POSTed (OTLP/HTTP JSON); a URL without a path gets the standard `/v1/traces`. */
  endpoint: string;
  /** Share of new traces recorded, 0..1; a parent's decision (a client's sampled flag) is followed. */
  samplingRatio: number;
  serviceName: string;
  nodeId: string;
  version: string;
  /** Finished spans waiting for export; past it new ones are dropped (counted in `dropped`). */
  maxQueuedSpans: number;
  /** How often a batch is sent. */
  exportIntervalMs: number;
  /** An export failed (logged by the caller, rate-limited). */
  onExportError?: (error: unknown) => void;
}

/**
 * Span names and attribute values are cut to these many characters: they quote what agents and clients chose
 * (a tool name an agent asks for, any length up to a message's size; a tool relay asks for what a client sent),
 * and every queued span (telemetry.max_queued_spans) held them whole until export. Fixed: no name or id the
 * node itself makes is half as long.
 */
export const MAX_SPAN_NAME_CHARS = 256;
export const MAX_ATTRIBUTE_VALUE_CHARS = 1024;

/** `name` cut to MAX_SPAN_NAME_CHARS, marked with an ellipsis when cut. */
function spanName(name: string): string {
  return name.length <= MAX_SPAN_NAME_CHARS ? name : `${name.slice(0, MAX_SPAN_NAME_CHARS - 1)}…`;
}

/** The API's view of tracing: a span per request (src/api/api-tracing.ts). */
export interface RequestTracer {
  startRequest(method: string, traceparentHeader: string | undefined): RequestSpan;
}

export interface RequestSpan {
  /** What a message sent by this request carries: the request span as its parent. */
  readonly traceparent: string;
  end(route: string, status: number): void;
}

/** A `/v1/traces` path appended to a bare collector address, as OTEL_EXPORTER_OTLP_ENDPOINT does. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/traces';
  return url.toString();
}

export class NodeTracing implements InvocationTracer, FinishedSpanRecorder, RequestTracer {
  readonly tracer: Tracer;
  readonly #provider: BasicTracerProvider;
  readonly #ids = new ChosenSpanIds();
  readonly #nodeId: string;
  readonly #ratio: number;
  /** The route span open while the router runs synchronously: routing outcomes are recorded on it. */
  #current: Span | undefined;
  /** Whether no delivery was recorded on #current yet. */
  #firstReceiver = false;

  constructor(options: TracingOptions) {
    this.#nodeId = options.nodeId;
    this.#ratio = options.samplingRatio;
    const exporter = new ReportingExporter(new OTLPTraceExporter({ url: tracesUrl(options.endpoint) }), options.onExportError);
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': options.serviceName,
        'service.instance.id': options.nodeId,
        'service.version': options.version,
      }),
      sampler: new AlwaysOnSampler(),
      spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_VALUE_CHARS },
      idGenerator: this.#ids,
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          maxQueueSize: options.maxQueuedSpans,
          maxExportBatchSize: Math.min(512, options.maxQueuedSpans),
          scheduledDelayMillis: options.exportIntervalMs,
        }),
      ],
    });
    this.tracer = this.#provider.getTracer('caxton', options.version);
  }

  /**
   * The context a recorded span starts in when its parent is `parent`, or undefined when the span is not
   * recorded: the parent is not sampled, or (a new trace) the sampling ratio said no.
   */
  #recordedParent(parent: string | undefined): Context | undefined {
    const parsed = parent === undefined ? undefined : parseTraceparent(parent);
    if (parsed !== undefined) return (parsed.traceFlags & 1) === 1 ? trace.setSpanContext(ROOT_CONTEXT, parsed) : undefined;
    return this.#ratio > 0 && Math.random() < this.#ratio ? ROOT_CONTEXT : undefined;
  }

  /** A recorded span that is a child of `parent`, or undefined (see #recordedParent). */
  startSpan(name: string, kind: SpanKind, parent: string | undefined, attributes: Attributes): Span | undefined {
    if (parent !== undefined && !looksSampled(parent)) return undefined;
    const context = this.#recordedParent(parent);
    return context === undefined ? undefined : this.tracer.startSpan(spanName(name), { kind, attributes }, context);
  }

  /**
   * The routing decision for `message`: a child of its `trace_context` (a new trace when it has none), which
   * then names the route span, so that deliveries, invocations and hops it causes are children of it.
   */
  route<T>(message: AclMessage, route: (message: AclMessage) => T): T {
    const carried = message.trace_context;
    if (carried !== undefined && !looksSampled(carried.traceparent)) return route(message);
    // Decided before any attribute is built: at a low ratio almost every new trace stops here.
    const context = this.#recordedParent(carried?.traceparent);
    if (context === undefined) {
      if (carried === undefined) {
        message.trace_context = { traceparent: unsampledTraceparent() };
        forgetWireText(message);
      }
      return route(message);
    }
    const attributes: Attributes = {
      'caxton.node': this.#nodeId,
      'caxton.performative': message.performative,
      'caxton.sender': message.sender,
      'caxton.message_id': message.message_id,
      'caxton.conversation_id': message.conversation_id,
    };
    if (message.protocol !== undefined) attributes['caxton.protocol'] = message.protocol;
    const span = this.tracer.startSpan('caxton.route', { kind: SpanKind.INTERNAL, attributes }, context);
    const traceparent = formatTraceparent(span.spanContext());
    message.trace_context = carried?.tracestate === undefined ? { traceparent } : { traceparent, tracestate: carried.tracestate };
    // An agent's send keeps its text with the invocation's trace_context spliced in: the receiver must see this one.
    forgetWireText(message);
    const outer = this.#current;
    const outerFirst = this.#firstReceiver;
    this.#current = span;
    this.#firstReceiver = true;
    try {
      return route(message);
    } finally {
      this.#current = outer;
      this.#firstReceiver = outerFirst;
      span.end();
    }
  }

  /** Records each delivery attempt on the route span open at the time (the router reports synchronously). */
  observeRouter(inner: RouterObserver): RouterObserver {
    return {
      onRouted: (message, receiver, outcome) => {
        const span = this.#current;
        if (span !== undefined && span.isRecording()) {
          // The first receiver as attributes (most messages have one), any further ones as events.
          if (this.#firstReceiver) {
            this.#firstReceiver = false;
            span.setAttribute('caxton.receiver', receiver);
            span.setAttribute('caxton.outcome', outcome);
          } else {
            span.addEvent('routed', { 'caxton.receiver': receiver, 'caxton.outcome': outcome });
          }
          if (outcome !== 'queued') span.setStatus({ code: SpanStatusCode.ERROR, message: `${receiver}: ${outcome}` });
        }
        inner.onRouted(message, receiver, outcome);
      },
      onDeadLetter: (message, reason, receiver) => inner.onDeadLetter(message, reason, receiver),
    };
  }

  /**
   * The hop to another node: a span around handing the message to the link, and the copy that crosses
   * carries it as the parent (a copy: the message object may be delivered here too, and its cached text
   * must not change).
   */
  remoteRoute(inner: RemoteRoute): RemoteRoute {
    return {
      send: (node, message, receiver) => {
        const carried = message.trace_context;
        if (carried === undefined || !looksSampled(carried.traceparent)) return inner.send(node, message, receiver);
        const span = this.startSpan('caxton.hop', SpanKind.PRODUCER, carried.traceparent, {
          'caxton.node': this.#nodeId,
          'caxton.peer': node,
          'caxton.receiver': receiver,
          'caxton.message_id': message.message_id,
        });
        if (span === undefined) return inner.send(node, message, receiver);
        const traceparent = formatTraceparent(span.spanContext());
        const crossing: AclMessage = {
          ...message,
          trace_context: carried?.tracestate === undefined ? { traceparent } : { traceparent, tracestate: carried.tracestate },
        };
        let outcome: DeliveryOutcome = 'node_unreachable';
        try {
          outcome = inner.send(node, crossing, receiver);
          return outcome;
        } finally {
          span.setAttribute('caxton.outcome', outcome);
          if (outcome !== 'queued') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
          span.end();
        }
      },
    };
  }

  startInvocation(agent: string, message: AclMessage): TraceScope | undefined {
    const carried = message.trace_context;
    if (carried === undefined || !looksSampled(carried.traceparent)) return undefined;
    const span = this.startSpan(`caxton.invoke ${agent}`, SpanKind.CONSUMER, carried.traceparent, {
      'caxton.node': this.#nodeId,
      'caxton.agent': agent,
      'caxton.performative': message.performative,
      'caxton.sender': message.sender,
      'caxton.message_id': message.message_id,
    });
    return span === undefined ? undefined : new SpanScope(span);
  }

  startToolCall(agent: string, server: string, tool: string, parentTraceparent: string): TraceScope | undefined {
    const span = this.startSpan(`caxton.tool_call ${server}/${tool}`, SpanKind.CLIENT, parentTraceparent, {
      'caxton.node': this.#nodeId,
      'caxton.agent': agent,
      'caxton.tool.server': server,
      'caxton.tool.name': tool,
    });
    return span === undefined ? undefined : new SpanScope(span);
  }

  /**
   * A span an agent worker made and ended (worker-invocation-tracer.ts), recorded with the id its children
   * already carry and the times it had there.
   */
  recordFinished(finished: FinishedSpan): void {
    const parent = parseTraceparent(finished.parent);
    if (parent === undefined || (parent.traceFlags & 1) === 0 || !isSpanId(finished.spanId)) return;
    const kind = finished.kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.CLIENT;
    this.#ids.chosen = finished.spanId;
    let span: Span;
    try {
      span = this.tracer.startSpan(spanName(finished.name), { kind, attributes: { 'caxton.node': this.#nodeId, ...finished.attributes }, startTime: finished.startMs }, trace.setSpanContext(ROOT_CONTEXT, parent));
    } finally {
      this.#ids.chosen = undefined;
    }
    span.setAttribute('caxton.outcome', finished.outcome);
    if (finished.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: finished.outcome });
    span.end(finished.endMs);
  }

  startRequest(method: string, traceparentHeader: string | undefined): RequestSpan {
    const span = this.startSpan(`${method}`, SpanKind.SERVER, traceparentHeader, { 'http.request.method': method, 'caxton.node': this.#nodeId });
    if (span === undefined) {
      // Not recorded: the client's unsampled trace goes on, or a new unrecorded one starts. Re-formatted, never
      // the header as sent: a later version may carry any text after its 55th character (a quote, JSON), and
      // this string is spliced into the text of the messages the request causes (host-imports.ts).
      const parsed = traceparentHeader === undefined ? undefined : parseTraceparent(traceparentHeader);
      return { traceparent: parsed !== undefined ? formatTraceparent(parsed) : unsampledTraceparent(), end() {} };
    }
    return {
      traceparent: formatTraceparent(span.spanContext()),
      end(route, status) {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    };
  }

  /** Sends what is queued (tests, and before a node stops). */
  flush(): Promise<void> {
    return this.#provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#provider.shutdown();
  }
}

/** Random ids, except the one span id recordFinished chose (set just around its startSpan). */
class ChosenSpanIds implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  chosen: string | undefined = undefined;

  generateTraceId(): string {
    return this.#random.generateTraceId();
  }

  generateSpanId(): string {
    return this.chosen ?? this.#random.generateSpanId();
  }
}

class SpanScope implements TraceScope {
  readonly traceparent: string;
  constructor(private readonly span: Span) {
    this.traceparent = formatTraceparent(span.spanContext());
  }

  end(outcome: InvocationOutcome | string): void {
    this.span.setAttribute('caxton.outcome', outcome);
    if (outcome !== 'ok') this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    this.span.end();
  }
}

/** Passes spans on, and tells the node when an export failed (the SDK itself says nothing). */
class ReportingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly onError: ((error: unknown) => void) | undefined,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.onError?.(result.error ?? new Error('export failed'));
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

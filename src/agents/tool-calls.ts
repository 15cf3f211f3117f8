// Tool calls in flight: each committed call goes to the gateway, and its outcome comes back to the agent
// as the message the ABI promises.
import { randomUUID } from 'node:crypto';
import { CaxtonError, describeError } from '../errors.ts';
import type { AclMessage } from '../messaging/message.ts';
import { TOOL_PREFIX } from '../messaging/message.ts';
import type { AgentSlot } from './agent-slot.ts';
import type { ToolCallRequest } from './host-imports.ts';
import type { InvocationTracer, TraceScope } from './invocation-tracer.ts';
import type { ToolGateway } from './tool-gateway.ts';

/** Told of each call as it settles (metrics: calls by server and outcome, their duration). */
export type ToolCallSettled = (agent: string, server: string, tool: string, durationMs: number, outcome: string) => void;

/**
 * Issues committed tool calls to the gateway and turns each outcome into the message the ABI promises:
 * `inform` with the CallToolResult, or `failure` with {error: {code, message}}, from `tool:<server>`,
 * in_reply_to `tool-<id>`.
 */
export class ToolCalls {
  inFlight = 0;

  constructor(
    private readonly gateway: ToolGateway,
    private readonly deliverResult: (slot: AgentSlot, message: AclMessage) => void,
    private readonly settled?: ToolCallSettled,
    private readonly tracer?: InvocationTracer,
  ) {}

  issue(slot: AgentSlot, call: ToolCallRequest): void {
    this.inFlight++;
    slot.pendingToolCalls++;
    const started = performance.now();
    const scope = this.tracer !== undefined && call.traceparent !== undefined ? this.tracer.startToolCall(slot.name, call.server, call.tool, call.traceparent) : undefined;
    let pending: Promise<unknown>;
    try {
      pending = this.gateway.call(slot.name, call.server, call.tool, call.arguments);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (result) => this.settle(slot, call, 'inform', result ?? null, 'ok', started, scope),
      (err: unknown) => {
        const error = toolError(err);
        this.settle(slot, call, 'failure', { error }, error.code, started, scope);
      },
    );
  }

  private settle(
    slot: AgentSlot,
    call: ToolCallRequest,
    performative: 'inform' | 'failure',
    content: unknown,
    outcome: string,
    started: number,
    scope: TraceScope | undefined,
  ): void {
    this.inFlight--;
    slot.pendingToolCalls--;
    this.settled?.(slot.name, call.server, call.tool, performance.now() - started, outcome);
    scope?.end(outcome);
    const id = `tool-${call.id}`;
    // The result continues the trace of the call: the invocation that handles it is a child of the tool span.
    this.deliverResult(slot, {
      performative,
      sender: `${TOOL_PREFIX}${call.server}`,
      receiver: slot.name,
      content,
      conversation_id: randomUUID(),
      in_reply_to: id,
      message_id: randomUUID(),
      ...(call.traceparent !== undefined ? { trace_context: { traceparent: scope !== undefined ? scope.traceparent : call.traceparent } } : {}),
    });
  }
}

function toolError(err: unknown): { code: string; message: string } {
  if (err instanceof CaxtonError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'TOOL_ERROR', message: err.message };
  return { code: 'TOOL_ERROR', message: describeError(err) };
}

// What the node does when the runtime or the router reports something: metrics, the conversation history,
// the audit log, live events, and remembering agent states across restarts. Hot-path callbacks look up
// pre-bound counter cells and do no I/O; history rows are group-committed by the store.
import type { RuntimeObserver } from '../agents/agent-runtime.ts';
import type { InvocationKind, InvocationOutcome } from '../agents/runtime-observer.ts';
import { trapMetricLabel } from '../agents/trap-reason.ts';
import type { DeliveryOutcome } from '../messaging/delivery.ts';
import type { AclMessage } from '../messaging/message.ts';
import { CLIENT_PREFIX, PERFORMATIVES } from '../messaging/message.ts';
import type { RouterObserver } from '../messaging/router-ports.ts';
import { RecentSet } from '../messaging/recent-set.ts';
import type { ConversationObserver } from '../messaging/conversations/conversation-events.ts';
import type { Histogram } from 'prom-client';
import type { CounterCell } from '../observability/metrics.ts';
import { MessageSampler } from './message-sampler.ts';
import type { CaxtonNode } from './node.ts';

/** Conversations remembered as tracked; past this the oldest is forgotten (its rows stay in SQLite). */
const TRACKED_CONVERSATIONS_MAX = 100_000;

export interface NodeObservers {
  runtime: Partial<RuntimeObserver>;
  router: RouterObserver;
  conversations: ConversationObserver;
  /** Whether the conversation history records this conversation's messages (agent workers ask). */
  historyTracks(conversationId: string): boolean;
}

export function wireObservers(node: CaxtonNode): NodeObservers {
  const { metrics, events } = node;
  const routed: Record<DeliveryOutcome, CounterCell> = {
    queued: metrics.messagesRouted.child('queued'),
    mailbox_full: metrics.messagesRouted.child('mailbox_full'),
    unavailable: metrics.messagesRouted.child('unavailable'),
    not_found: metrics.messagesRouted.child('not_found'),
    node_unreachable: metrics.messagesRouted.child('node_unreachable'),
    link_full: metrics.messagesRouted.child('link_full'),
  };
  // Cells by kind then outcome: no key string built per invocation.
  const invocations = new Map<string, Map<string, CounterCell>>();
  const invocationCell = (kind: string, outcome: string): CounterCell => {
    let byOutcome = invocations.get(kind);
    if (byOutcome === undefined) invocations.set(kind, (byOutcome = new Map()));
    let cell = byOutcome.get(outcome);
    if (cell === undefined) byOutcome.set(outcome, (cell = metrics.agentInvocations.child(kind, outcome)));
    return cell;
  };
  // Cells by performative (all 16, validated on every path in) then outcome, made up front in objects of one
  // shape: a Map lookup and a property read per delivery attempt, nothing created.
  const byPerformative = new Map<string, Record<DeliveryOutcome, CounterCell>>();
  for (const performative of PERFORMATIVES) {
    const cell = (outcome: DeliveryOutcome) => metrics.messagesByPerformative.child(performative, outcome);
    byPerformative.set(performative, {
      queued: cell('queued'),
      mailbox_full: cell('mailbox_full'),
      unavailable: cell('unavailable'),
      not_found: cell('not_found'),
      node_unreachable: cell('node_unreachable'),
      link_full: cell('link_full'),
    });
  }
  const invocationHistograms = new Map<string, Histogram.Internal<'kind'>>();
  const invocationHistogram = (kind: string): Histogram.Internal<'kind'> => {
    let child = invocationHistograms.get(kind);
    if (child === undefined) invocationHistograms.set(kind, (child = metrics.invocationDuration.labels(kind)));
    return child;
  };
  const invocationTimed = (kind: InvocationKind, outcome: InvocationOutcome, durationNs: number): void => {
    invocationHistogram(kind).observe(durationNs / 1e9);
    if (kind === 'init' && outcome === 'ok') node.performance.agentStart.record(durationNs / 1e6);
  };
  const history = conversationHistory(node);
  const sampled = new MessageSampler(node.config.events.messages_per_second);

  const runtime: Partial<RuntimeObserver> = {
    // Invocations are counted; one message or timer invocation in 64 is timed (agent_init and shutdown always).
    wantsDurations: false,
    durationSampleEvery: 64,
    onInvocation(_agent, kind, durationNs, outcome) {
      invocationCell(kind, outcome).inc();
      if (durationNs > 0) invocationTimed(kind, outcome, durationNs);
    },
    onInvocations(_agent, kind, outcome, count, timedNs) {
      invocationCell(kind, outcome).inc(count);
      for (let i = 0; i < timedNs.length; i++) if (timedNs[i] > 0) invocationTimed(kind, outcome, timedNs[i]);
    },
    onToolCall(_agent, server, _tool, durationMs, outcome) {
      metrics.toolCalls.child(server, outcome).inc();
      metrics.toolCallDuration.observe({ server }, durationMs / 1000);
    },
    onTrap(agent, reason) {
      metrics.agentTraps.child(trapMetricLabel(reason)).inc();
      events.publish('agent.trap', { agent, reason });
    },
    onStateChange(agent, from, to) {
      events.publish('agent.state', { agent, from, to, node: node.nodeId });
      // A node stopping on purpose stops its agents too; that is not a state they should come back in.
      if (!node.isStopping) node.agents.persistState(agent, to);
    },
    onPermissionDenied(agent, what) {
      node.audit({ principal: `agent:${agent}`, action: 'call_tool', target: what, outcome: 'denied' });
    },
  };

  const router: RouterObserver = {
    onRouted(message, receiver, outcome) {
      routed[outcome].inc();
      byPerformative.get(message.performative)?.[outcome].inc();
      history(message, receiver);
      if (events.listening && sampled.take()) events.publish('message', summarize(message, receiver, outcome));
    },
    onDeadLetter(_message, reason) {
      metrics.deadLetters.child(reason).inc();
    },
  };
  const conversations: ConversationObserver = {
    onUpdate(event) {
      if (event.change === 'advanced') return;
      metrics.conversationEvents.child(event.protocol, event.change).inc();
      if (!events.listening) return;
      events.publish('conversation', {
        change: event.change,
        conversation_id: event.conversation_id,
        protocol: event.protocol,
        state: event.state,
        ...(event.participant ? { participant: event.participant } : {}),
        ...(event.code ? { code: event.code } : {}),
        // A refused message is never routed, so no message event shows it: its parties come with the refusal
        // (the console's sniffer marks it). The first receiver only, so the event stays small.
        ...(event.change === 'rejected' && event.message ? refusedMessage(event.message) : {}),
      });
    },
  };
  return { runtime, router, conversations, historyTracks: history.tracks };
}

/** Records each routed message once (the router reports it once per receiver) if its conversation is kept. */
function conversationHistory(node: CaxtonNode): ((message: AclMessage, receiver: string) => void) & { tracks(conversationId: string): boolean } {
  const mode = node.config.state.conversation_log;
  const store = node.history;
  // A RecentSet, not a Set trimmed by values().next(): that trim costs O(n) per client send once full.
  const tracked = new RecentSet(TRACKED_CONVERSATIONS_MAX);
  let last: AclMessage | undefined;
  const record = (message: AclMessage, receiver: string): void => {
    if (store === undefined || message === last) return;
    last = message;
    if (mode === 'tracked') {
      const opensTracked =
        message.protocol !== undefined || message.sender.startsWith(CLIENT_PREFIX) || receiver.startsWith(CLIENT_PREFIX);
      if (opensTracked) {
        tracked.add(message.conversation_id);
      } else if (message.conversation_id === message.message_id || !tracked.has(message.conversation_id)) {
        // A conversation_id equal to the message's own id is a conversation this message opens: not tracked.
        return;
      }
    }
    store.append(message);
  };
  return Object.assign(record, { tracks: (conversationId: string) => mode === 'all' || (mode === 'tracked' && tracked.has(conversationId)) });
}

function summarize(message: AclMessage, receiver: string, outcome: DeliveryOutcome): Record<string, unknown> {
  return {
    performative: message.performative,
    sender: message.sender,
    receiver,
    conversation_id: message.conversation_id,
    message_id: message.message_id,
    protocol: message.protocol ?? null,
    outcome,
  };
}

function refusedMessage(message: AclMessage): Record<string, unknown> {
  const receivers = typeof message.receiver === 'string' ? [message.receiver] : message.receiver;
  return {
    performative: message.performative,
    sender: message.sender,
    receiver: receivers[0],
    ...(receivers.length > 1 ? { receivers: receivers.length } : {}),
    message_id: message.message_id,
  };
}

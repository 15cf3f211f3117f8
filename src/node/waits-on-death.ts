// Nobody waits in silence for an agent whose node died: a message the node's link acknowledged may have died
// in the agent's mailbox, and no LINK_LOST covers it. When a member is declared dead, every client wait
// still missing an answer from a receiver on it, and every message a local agent sent to an agent on it and
// still awaits an answer to (RemoteAwaits), gets `failure` NODE_FAILED from that receiver (the sender may
// send again: the agent is being started on its new owner). A member that left handed its agents over with
// their mailboxes first: only agents' messages to receivers the directory still places on it (or nowhere)
// are answered then.
import type { AgentDirectory } from '../messaging/agent-directory.ts';
import type { ClientInbox } from '../messaging/client-inbox.ts';
import { failureReply } from '../messaging/replies.ts';
import type { Router } from '../messaging/router.ts';
import type { EventBus } from './event-bus.ts';

/** Where the directory places a receiver now, when that is another node. */
export function remoteNodeOf(directory: AgentDirectory): (receiver: string) => string | undefined {
  return (receiver) => {
    const location = directory.lookup(receiver);
    return location?.kind === 'remote' ? location.node : undefined;
  };
}

export interface WaitsOnDeathOptions {
  events: EventBus;
  inbox: ClientInbox;
  /** Absent: only client waits are answered. */
  router?: Router;
  /** Absent: a member that left is not answered for (its hand-over is trusted). */
  directory?: AgentDirectory;
  /** Told how many were answered per gone member (a log line). */
  onAnswered?: (node: string, state: 'dead' | 'left', clients: number, agents: number) => void;
}

export function answerWaitsOnDeath(options: WaitsOnDeathOptions): () => void {
  const { events, inbox, router, directory } = options;
  return events.subscribe((event) => {
    if (event.type !== 'member') return;
    const state = event.data.state;
    const node = event.data.id;
    if ((state !== 'dead' && state !== 'left') || typeof node !== 'string') return;
    if (state === 'left' && directory === undefined) return;
    // A receiver the directory places elsewhere now was handed over, mailbox and all: its new node answers.
    const notHandedOver =
      state === 'left' && directory !== undefined
        ? (receiver: string): boolean => {
            const location = directory.lookup(receiver);
            return location === undefined || (location.kind === 'remote' && location.node === node);
          }
        : undefined;
    const why = state === 'dead' ? 'was declared dead' : 'left without handing the agent over';
    // A client's wait is bounded by its wait_ms: it is answered only on a death (a hand-over still in flight
    // when `left` arrives must not turn its answer into a failure); an agent's wait has no bound but this one.
    const clients =
      state === 'dead'
        ? inbox.failNode(node, (sent, receiver) =>
            failureReply(sent, receiver, 'NODE_FAILED', `node "${node}" of agent "${receiver}" ${why} before the agent answered`, {
              receiver,
              node,
            }),
          )
        : 0;
    const agents =
      router?.failAwaitsOn(
        node,
        (entry) => `node "${node}" of agent "${entry.receiver}" ${why} before the agent answered`,
        notHandedOver && ((entry) => notHandedOver(entry.receiver)),
      ) ?? 0;
    if (clients + agents > 0) options.onAnswered?.(node, state, clients, agents);
  });
}

// Nobody waits in silence for an agent whose node died: a message the node's link acknowledged may have died
// in the agent's mailbox, and no LINK_LOST covers it. When a member is declared dead, every client wait
// still missing an answer from a receiver on it, and every message a local agent sent to an agent on it and
// still awaits an answer to (RemoteAwaits), gets `failure` NODE_FAILED from that receiver (the sender may
// send again: the agent is being started on its new owner).
// A member that left handed its agents over with their mailboxes first: an agent's message is answered then
// only when its receiver is still placed on that member (or nowhere); the others follow their receiver to
// its new node, whose death answers them. "On a node" is where the message was sent, or where the directory
// places its receiver now (a drain forwarded the mailbox there).
import type { AgentDirectory } from '../messaging/agent-directory.ts';
import type { ClientInbox } from '../messaging/client-inbox.ts';
import type { RemoteAwait, RemoteAwaits } from '../messaging/remote-awaits.ts';
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
  /** What local agents await from agents on other nodes, answered too; absent: only clients' waits. */
  agents?: { router: Router; awaits: RemoteAwaits; directory: AgentDirectory; nodeId: string };
  /** Told how many were answered per gone member (a log line). */
  onAnswered?: (node: string, state: 'dead' | 'left', clients: number, agents: number) => void;
}

export function answerWaitsOnDeath(options: WaitsOnDeathOptions): () => void {
  const { events, inbox, agents } = options;
  return events.subscribe((event) => {
    if (event.type !== 'member') return;
    const state = event.data.state;
    const node = event.data.id;
    if ((state !== 'dead' && state !== 'left') || typeof node !== 'string') return;
    const why = state === 'dead' ? 'was declared dead' : 'left without handing the agent over';
    const text = (receiver: string): string => `node "${node}" of agent "${receiver}" ${why} before the agent answered`;
    // A client's wait is bounded by its wait_ms: it is answered only on a death (a hand-over still in flight
    // when `left` arrives must not turn its answer into a failure); an agent's wait has no bound but this one.
    const clients =
      state === 'dead'
        ? inbox.failNode(node, (sent, receiver) => {
            // A LINK_LOST the link reports later for this message must not be a second answer to the client.
            agents?.awaits.markFailed(sent, receiver);
            return failureReply(sent, receiver, 'NODE_FAILED', text(receiver), { receiver, node });
          })
        : 0;
    let answered = 0;
    if (agents !== undefined) {
      const whereNow = (receiver: string): string | undefined => {
        const location = agents.directory.lookup(receiver);
        return location === undefined ? undefined : location.kind === 'local' ? agents.nodeId : location.node;
      };
      // A death loses what was sent there even if the registry already names a new owner (failover may be
      // quicker than this node's own declaration); a leave hands over, so only what stayed is lost.
      const lost =
        state === 'dead'
          ? (entry: RemoteAwait): boolean => entry.node === node || whereNow(entry.receiver) === node
          : (entry: RemoteAwait): boolean => {
              const now = whereNow(entry.receiver);
              return now === node || (entry.node === node && now === undefined);
            };
      answered = agents.router.failAwaitsOn(node, (entry) => text(entry.receiver), lost);
      if (state === 'left') agents.awaits.follow(node, whereNow, agents.nodeId);
    }
    if (clients + answered > 0) options.onAnswered?.(node, state, clients, answered);
  });
}

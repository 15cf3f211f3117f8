// A client waiting for an agent on another node must not wait in silence when that node dies: a message
// the node's link acknowledged may have died in the agent's mailbox, and no LINK_LOST covers it. When a
// member is declared dead, every client wait still missing an answer from a receiver on it gets `failure`
// NODE_FAILED from that receiver (the client may send again: the agent is being started on its new owner).
import type { AgentDirectory } from '../messaging/agent-directory.ts';
import type { ClientInbox } from '../messaging/client-inbox.ts';
import { failureReply } from '../messaging/replies.ts';
import type { EventBus } from './event-bus.ts';

/** Where the directory places a receiver now, when that is another node. */
export function remoteNodeOf(directory: AgentDirectory): (receiver: string) => string | undefined {
  return (receiver) => {
    const location = directory.lookup(receiver);
    return location?.kind === 'remote' ? location.node : undefined;
  };
}

export function answerWaitsOnDeath(events: EventBus, inbox: ClientInbox): () => void {
  return events.subscribe((event) => {
    // Only a death: a node that leaves gracefully hands its agents and their mailboxes over first.
    if (event.type !== 'member' || event.data.state !== 'dead') return;
    const node = event.data.id;
    if (typeof node !== 'string') return;
    inbox.failNode(node, (sent, receiver) =>
      failureReply(sent, receiver, 'NODE_FAILED', `node "${node}" of agent "${receiver}" was declared dead before the agent answered`, {
        receiver,
        node,
      }),
    );
  });
}

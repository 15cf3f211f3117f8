// A client waiting for an agent on a node that leaves gracefully: the leave hands the agent and its mailbox to
// a new owner, which answers the client's node directly when the forward named it (the `origin` link feature,
// src/cluster/routing/message-codec.ts). Such a wait goes on, now placed on the agent's new node, so a death
// of that node answers it NODE_FAILED (waits-on-death.ts). A leaving node of the previous version names no
// origin, so the owner sends its replies back through that node, and once it has left they have no path:
// every wait still missing an answer from a receiver routed to it gets `failure` REPLY_PATH_LOST then,
// instead of silence until its wait_ms.
import type { ClientInbox } from '../messaging/client-inbox.ts';
import { failureReply } from '../messaging/replies.ts';
import type { EventBus } from './event-bus.ts';

export interface WaitsOnLeaveParts {
  events: EventBus;
  inbox: Pick<ClientInbox, 'failNode' | 'moveReceivers'>;
  /** True when `node`'s routing hello listed the `origin` link feature. */
  readsOrigins(node: string): boolean;
  /** The node the directory places a receiver on now, when that is another node (remoteNodeOf). */
  nodeOf(receiver: string): string | undefined;
}

export function answerWaitsOnLeave(parts: WaitsOnLeaveParts): () => void {
  const { events, inbox, readsOrigins, nodeOf } = parts;
  return events.subscribe((event) => {
    if (event.type !== 'member' || event.data.state !== 'left') return;
    const node = event.data.id;
    if (typeof node !== 'string') return;
    if (readsOrigins(node)) {
      inbox.moveReceivers(node, nodeOf);
      return;
    }
    inbox.failNode(node, (sent, receiver) =>
      failureReply(
        sent,
        receiver,
        'REPLY_PATH_LOST',
        `node "${node}" left before the reply of agent "${receiver}" came back through it (a node of the previous version relays replies to what it forwarded); the agent may have handled the request`,
        { receiver, node },
      ),
    );
  });
}

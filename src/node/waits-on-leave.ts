// A client waiting for an agent on a node that leaves gracefully: the leave hands the agent and its mailbox to
// a new owner, which answers the client's node directly when the forward named it (the `origin` link feature,
// src/cluster/routing/message-codec.ts). A leaving node of the previous version names no origin, so the owner
// sends its replies back through that node, and once it has left they have no path: every wait still missing
// an answer from a receiver routed to it gets `failure` REPLY_PATH_LOST then, instead of silence until its
// wait_ms. A leaving node that reads origins is not failed: its forwards are answered straight here.
import type { ClientInbox } from '../messaging/client-inbox.ts';
import { failureReply } from '../messaging/replies.ts';
import type { EventBus } from './event-bus.ts';

export function answerWaitsOnLeave(events: EventBus, inbox: Pick<ClientInbox, 'failNode'>, readsOrigins: (node: string) => boolean): () => void {
  return events.subscribe((event) => {
    if (event.type !== 'member' || event.data.state !== 'left') return;
    const node = event.data.id;
    if (typeof node !== 'string' || readsOrigins(node)) return;
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

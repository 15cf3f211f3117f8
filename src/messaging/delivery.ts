// The seam between the router and whatever holds agents. The router only knows "hand this message to
// local agent X" and "route this message"; the WASM runtime only knows "a message for my agent" and
// "send this on". Remote routing adds another implementation of the same shapes.
import type { AclMessage } from './message.ts';

/** What became of a message handed to an agent's mailbox. */
export type DeliveryOutcome =
  /** In the mailbox; it will be handled in order. */
  | 'queued'
  /** The mailbox is at its bound: the sender gets MAILBOX_FULL. */
  | 'mailbox_full'
  /** The agent exists but does not take messages (stopped, failed, being deleted). */
  | 'unavailable'
  /** No such agent here. */
  | 'not_found'
  /** The agent's node cannot be reached (no link, or the link is down): NODE_UNREACHABLE. */
  | 'node_unreachable'
  /** The link to the agent's node is at its bound (a slow or stuck peer): LINK_FULL, backpressure. */
  | 'link_full';

/** The agents that run on this node, as the router sees them. */
export interface LocalAgents {
  has(name: string): boolean;
  deliver(message: AclMessage, to: string): DeliveryOutcome;
}

/** Where stamped messages go to be routed: agents' sends, host-made failures, client messages. */
export interface MessageSink {
  route(message: AclMessage): void;
}

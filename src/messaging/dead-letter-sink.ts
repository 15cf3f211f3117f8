// Every message that cannot be delivered ends here (messages.md, Delivery): the node's bounded,
// inspectable dead-letter store implements this; the router only reports.
import type { AclMessage } from './message.ts';

/** Why the router gave up on a message; other layers (protocol checks, deadlines) add their own codes. */
export type DeadLetterReason =
  | 'AGENT_NOT_FOUND'
  | 'MAILBOX_FULL'
  | 'AGENT_UNAVAILABLE'
  | 'AGENT_ERROR'
  | 'NO_CLIENT_WAITING'
  | 'NODE_UNREACHABLE'
  | 'LINK_FULL'
  | 'LINK_LOST'
  | 'SENDER_REFUSED'
  | 'WORKER_RESTARTED';

export interface DeadLetterSink {
  /**
   * Called synchronously while routing: keep it cheap (buffer, then write in batches). `receiver` is the
   * one the message failed for (a message to several receivers may fail for some of them only).
   */
  record(message: AclMessage, reason: DeadLetterReason | (string & {}), receiver?: string): void;
}

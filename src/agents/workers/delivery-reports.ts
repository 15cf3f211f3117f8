// What the router must hear from the agent worker pool about deliveries it did not make itself: the pool
// delivers inside workers, where the router's observer cannot see. Its own file because the pool and the
// handling of worker messages (worker-messages.ts) both speak to it.
import type { DeliveryOutcome } from '../../messaging/delivery.ts';
import type { AclMessage } from '../../messaging/message.ts';

/** What the router must hear about deliveries it did not make itself. */
export interface DeliveryReports {
  /** A message delivered between two agents of one worker (the router's observer never saw it). */
  routed(message: AclMessage, receiver: string): void;
  /** Messages delivered inside workers, counted only (observeLocal off). */
  routedCount(count: number): void;
  /** A delivery the worker refused after the router counted it queued: answered as the router would have. */
  refused(message: AclMessage, receiver: string, outcome: DeliveryOutcome): void;
  /** A message lost with the worker that held it: dead-lettered and answered `failure` WORKER_RESTARTED. */
  lost(message: AclMessage, receiver: string, text: string): void;
  /**
   * Whether the router's observer records the messages of this conversation (the conversation history): the
   * worker then reports its replies inside the worker one by one (observeLocal `tracked`).
   */
  tracks?(conversationId: string): boolean;
}

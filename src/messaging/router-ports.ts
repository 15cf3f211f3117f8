// What the router is plugged into besides the directory and the local agents: the hop to other nodes,
// in-process system agents, the interaction-protocol checks, and whoever watches traffic (metrics,
// conversation log, event stream).
import type { DeliveryOutcome } from './delivery.ts';
import type { AclMessage } from './message.ts';

/**
 * The hop to another node. Its outcome is read like a local one ('queued' = handed to the connection).
 * `receiver` is the one resolved receiver on that node the message is for: a message written to several
 * receivers crosses once per receiver, and the peer hands it to that receiver only.
 */
export interface RemoteRoute {
  send(node: string, message: AclMessage, receiver: string): DeliveryOutcome;
}

/**
 * An agent that lives inside the host (`df`, `ams`). Called synchronously in routing order; it answers by
 * routing its replies through the router. A throw becomes a failure AGENT_ERROR to the sender.
 */
export type SystemAgentHandler = (message: AclMessage) => void;

/** Told of every delivery attempt and every dead letter; called synchronously on the hot path. */
export interface RouterObserver {
  /** `receiver` is the resolved name (a capability is reported once per agent it reached). */
  onRouted(message: AclMessage, receiver: string, outcome: DeliveryOutcome): void;
  onDeadLetter(message: AclMessage, reason: string, receiver: string): void;
}

/** Where replies to API clients go (the ClientInbox); false when no client waits for this one. */
export interface ClientReplies {
  deliver(reply: AclMessage, client: string): boolean;
}

/** Why a message of a tracked conversation is not delivered, and how its sender is told (messages.md). */
export interface ProtocolRejection {
  /** QUOTA_EXCEEDED: the sender already initiates as many open conversations as one sender may. */
  readonly code: 'PROTOCOL_VIOLATION' | 'DEADLINE_PASSED' | 'QUOTA_EXCEEDED';
  /** `not-understood` for a message that breaks the protocol, `failure` for a reply after `reply_by` or past a quota. */
  readonly performative: 'not-understood' | 'failure';
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * The interaction-protocol checks (ConversationTracker). The router asks only about messages whose
 * `protocol` it `enforces`, so every other message costs one field test.
 */
export interface ConversationGate {
  enforces(protocol: string): boolean;
  /** Once per message, before any delivery, with the resolved receivers; undefined = deliver it. */
  check(message: AclMessage, receivers: readonly string[]): ProtocolRejection | undefined;
  /**
   * Records a message the checks must not judge: failures the host makes for undeliverable messages, and
   * messages arriving from another node (already checked there). Applies what fits, ignores the rest.
   */
  observe(message: AclMessage, receivers?: readonly string[]): void;
  /** How the gate routes the TIMEOUT failures it makes itself; they skip the checks. Set by the router. */
  bindHostRoute(route: (message: AclMessage) => void): void;
}

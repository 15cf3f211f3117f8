// The conversation tracker's defaults, each with its reason (configurable through ConversationTrackerOptions).

const SECOND = 1000;
const MINUTE = 60 * SECOND;

export const CONVERSATION_DEFAULTS = {
  /**
   * Conversations held in memory, the least recently active forgotten first. Measured ~0.3 KB for a
   * one-participant conversation (bench/conversations.bench.ts), so ~30 MB at the bound; at 100k msg/s of
   * 2–4-message conversations that is the last few seconds of traffic, far longer than replies take.
   */
  maxConversations: 100_000,
  /**
   * Participants held across all conversations: a cfp to 100 agents weighs ~100 one-to-one conversations
   * (~1.4 KB for a contract net of 10 with its timer), so the count alone would not bound memory.
   * 1M participants ≈ 100–150 MB at worst.
   */
  maxParticipants: 1_000_000,
  /**
   * What one initiator (an agent, or a client's principal) may hold of maxConversations and of maxParticipants
   * in conversations still going on: one part in this many. A client opening fipa-requests to a participant
   * that never answers took all 100,000 places in ~80 s and evicted every other sender's conversation (their
   * participants' answers then refused); now it is refused QUOTA_EXCEEDED at 10,000 and ten such senders are
   * needed to fill the tracker. Ended conversations do not count.
   */
  initiatorShare: 10,
  /** A conversation nobody touched for this long is forgotten (the brief's 30 minutes): replies that late are lost anyway. */
  idleMs: 30 * MINUTE,
  /** How often idle conversations are swept: 1/30 of idleMs keeps the overshoot near 3% for one scan a minute. */
  sweepIntervalMs: MINUTE,
  /**
   * How long an ended conversation is still held, so that a late or duplicate message in it is refused as
   * "has ended" (PROTOCOL_VIOLATION, or DEADLINE_PASSED for a participant that timed out) rather than opening a
   * new conversation. Such a message comes out of the same round of handling: an agent's sends reach the router
   * when its invocation ends (~10 ms of fuel at most), a forward to another node within a few ms even across GC
   * pauses. 1 s covers that 100 times over, yet at ~32k conversations/s holds ~32k ended ones (~16 MB), a third
   * of maxConversations, where holding them until idleMs filled the bound in 3 s and evicted continuously.
   */
  endedGraceMs: SECOND,
} as const;

/** setTimeout's ceiling (2^31 − 1 ms, ~24.8 days): a longer delay would fire at once, so longer waits re-arm. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

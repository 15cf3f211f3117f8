// Catch-up of a member back from gone (a partition healed, a node restarted): it is handed what this node
// wrote in the registry meanwhile (take-overs, claims, deletions) straight over the routing link
// (failover.entries), so within a round trip both registries name the same node for every agent the two sides
// both ran, and the copy that is not its keeper yields. Apart from the plan's actions because it acts on a
// member, not on an agent, and keeps its own marks per member (from membership events).
import type { FailoverContext, FailoverMember } from './failover-context.ts';

export class CatchUps {
  readonly #c: FailoverContext;
  /**
   * The registry's Lamport time when each member was first seen suspect, dead or left (whichever came first:
   * a cut is suspected seconds before the death is declared, and writes meanwhile may not have reached it),
   * and whether it was declared gone since: what a member back from gone missed of this node came after. A
   * member away again while still owed a catch-up keeps that catch-up's mark (#markAway).
   */
  readonly #goneAtLamport = new Map<string, { lamport: number; gone: boolean }>();
  /** Members back from gone still to be handed this node's writes since that mark (one entry per member). */
  readonly #catchUps = new Map<string, { since: number; attempts: number; sending: boolean }>();

  constructor(context: FailoverContext) {
    this.#c = context;
  }

  /** A membership change: a member suspected or gone is marked; one alive again after gone gets a catch-up. */
  memberChanged(id: string, state: string): void {
    const gone = state === 'dead' || state === 'left';
    if (gone || state === 'suspect') {
      this.#markAway(id, gone);
      return;
    }
    const mark = this.#goneAtLamport.get(id);
    if (mark !== undefined && state === 'alive') {
      this.#goneAtLamport.delete(id);
      if (mark.gone && this.#c.options.pushEntries) this.#catchUps.set(id, { since: mark.lamport, attempts: 0, sending: false });
    }
  }

  /**
   * Marks a member suspect (gone: false) or gone. One still owed a catch-up (back from gone, suspected again
   * before it was handed this node's writes, or while they were on the way) keeps it: its mark goes back to
   * the catch-up's own, as gone, so its next alive queues the catch-up again from there. Before, the catch-up
   * was dropped at the next check and the member marked anew as only suspect: its next alive queued nothing,
   * and push-pull alone repaired it.
   */
  #markAway(id: string, gone: boolean): void {
    const mark = this.#goneAtLamport.get(id) ?? { lamport: this.#c.options.registry.stats().lamport, gone: false };
    const owed = this.#catchUps.get(id);
    if (owed !== undefined) {
      // A send still on the way finds its job replaced and leaves the new one alone.
      this.#catchUps.delete(id);
      mark.lamport = Math.min(mark.lamport, owed.since);
      mark.gone = true;
    }
    mark.gone ||= gone;
    this.#goneAtLamport.set(id, mark);
  }

  /** Drops the marks of members the membership no longer knows. */
  forgetAbsent(known: (id: string) => boolean): void {
    for (const id of this.#goneAtLamport.keys()) if (!known(id)) this.#goneAtLamport.delete(id);
  }

  /**
   * Hands each member back from gone this node's writes since its mark. Gossip alone reaches it only by
   * chance before the next push-pull (seconds to tens of seconds). A link still backing off from the cut
   * refuses: retried at each check, up to CATCH_UP_ATTEMPTS times; after that push-pull repairs it.
   */
  run(members: FailoverMember[]): void {
    const o = this.#c.options;
    const push = o.pushEntries;
    if (!push || this.#catchUps.size === 0) return;
    const byId = new Map(members.map((m) => [m.id, m]));
    for (const [member, job] of this.#catchUps) {
      if (job.sending) continue;
      const now = byId.get(member);
      // Only a Caxton node with routing links keeps a registry to hand anything to (not a stock Serf agent).
      if (now === undefined || !now.placeable || job.attempts >= CATCH_UP_ATTEMPTS) {
        if (job.attempts >= CATCH_UP_ATTEMPTS) o.logger.warn({ member, attempts: job.attempts }, 'failover: could not hand a returning member what this node wrote meanwhile; push-pull will');
        this.#catchUps.delete(member);
        continue;
      }
      if (now.state !== 'alive') {
        // Away again (its event marked it already; this holds if the view ran ahead of the events).
        this.#markAway(member, now.state !== 'suspect');
        continue;
      }
      const entries = o.registry.ownUpdatesSince(job.since, CATCH_UP_MAX_ENTRIES);
      if (entries.length === 0) {
        this.#catchUps.delete(member);
        continue;
      }
      job.sending = true;
      job.attempts += 1;
      const chunks: Uint8Array[][] = [];
      for (let i = 0; i < entries.length; i += CATCH_UP_CHUNK) chunks.push(entries.slice(i, i + CATCH_UP_CHUNK));
      const timeoutMs = Math.max(o.settings.checkIntervalMs, 1000);
      void chunks
        .reduce((sent, chunk) => sent.then(() => push(member, chunk, timeoutMs)), Promise.resolve())
        .then(() => {
          if (this.#catchUps.get(member) === job) this.#catchUps.delete(member);
          o.logger.info({ member, entries: entries.length }, 'failover: a member back from gone has what this node wrote meanwhile');
        })
        .catch((error: Error) => o.logger.debug({ member, err: error.message }, 'failover: handing a returning member this node\'s writes failed; retried'))
        .finally(() => {
          job.sending = false;
        });
    }
  }
}

/** Tries to hand a returning member this node's writes (one per check) before leaving it to push-pull. */
const CATCH_UP_ATTEMPTS = 30;
/**
 * Own writes handed to a returning member at most (~1 KB each at worst): a node that wrote more while the
 * other was away (a bulk deploy) leaves the rest to push-pull, which carries the whole registry anyway.
 */
const CATCH_UP_MAX_ENTRIES = 10_000;
/** Entries per failover.entries request: ~1 MB at most, far under routing.max_frame_bytes. */
const CATCH_UP_CHUNK = 1000;

// The modules failover takes agents over with: from this node's store, from the standby copies it keeps of
// the modules it would need (fetched from their live owners before any death, instrumented and compiled
// ahead, in memory within failover.standby_module_bytes), else from any live peer. Apart from the take-overs
// themselves (failover-take-over.ts) because the standby copies are kept at every check whether or not
// anything is taken over, with bounds of their own.
import { standbyModules } from '../cluster/placement/failover-plan.ts';
import type { AgentRecord } from '../cluster/registry/agent-record.ts';
import { sha256Hex } from '../state/module-store.ts';
import type { FailoverContext } from './failover-context.ts';

export class TakeOverModules {
  readonly #c: FailoverContext;
  /** Asks the failover for a check (a fetch that ends may change what is wanted). */
  readonly #schedule: () => void;
  /**
   * Other nodes' modules held for a take-over, in the order they were fetched (Map order): every one held is
   * wanted (keep() drops the rest at each check), so past the budget the earliest fetched goes first.
   */
  readonly #standby = new Map<string, Uint8Array>();
  #standbyBytes = 0;
  readonly #fetching = new Set<string>();
  /**
   * Modules fetched ahead and not kept, not fetched ahead again (a take-over fetches them): 'too large' for the
   * whole standby budget (the bytes of a sha256 never change), or pushed out for 'no room' by a module fetched
   * later (fetched again once a wanted module is dropped and frees room). Without it a module not kept was
   * downloaded again at the next check, and each download scheduled one: back to back, for ever. At most
   * #maxNotKept entries; full, the ones no longer wanted go, and if it is still full nothing more is fetched
   * ahead, for fetching more would only push out what is held.
   */
  readonly #notKept = new Map<string, 'too large' | 'no room'>();
  readonly #maxNotKept: number;
  /** The full #notKept was logged; said again only after it had room. */
  #fullSaid = false;

  constructor(context: FailoverContext, schedule: () => void, maxNotKept = MAX_NOT_KEPT) {
    this.#c = context;
    this.#schedule = schedule;
    this.#maxNotKept = maxNotKept;
  }

  /** Standby modules held now. */
  get count(): number {
    return this.#standby.size;
  }

  /** Bytes of the standby modules held now. */
  get bytes(): number {
    return this.#standbyBytes;
  }

  /** From this node's store, its standby copies, else any live peer (the dead one cannot answer). */
  async moduleFor(record: AgentRecord, deadNode: string): Promise<Uint8Array> {
    const o = this.#c.options;
    const sha = record.module_sha256;
    const local = o.modules.get(sha) ?? this.#standby.get(sha);
    if (local) return local;
    const peers = o
      .members()
      .filter((m) => m.placeable && m.state === 'alive' && m.id !== o.nodeId && m.id !== deadNode)
      .map((m) => m.id);
    const reasons: string[] = [];
    for (const peer of peers) {
      try {
        return await this.#fetch(peer, sha);
      } catch (error) {
        reasons.push(`${peer}: ${(error as Error).message}`);
      }
    }
    throw new Error(`module ${sha} is on no live node (${reasons.join('; ') || 'no peer alive'})`);
  }

  /** Fetches the modules this node would need for a take-over, drops the ones it no longer would. */
  keep(alive: string[], records: AgentRecord[]): void {
    const o = this.#c.options;
    const limit = o.settings.standbyModuleBytes;
    if (limit === 0) return;
    const wanted = standbyModules(o.nodeId, alive, records);
    let freed = false;
    for (const [sha, bytes] of this.#standby) {
      if (!wanted.has(sha)) {
        this.#standby.delete(sha);
        this.#standbyBytes -= bytes.byteLength;
        freed = true;
      }
    }
    // Room freed: the modules pushed out for room may fit now. Full: the modules no longer wanted make room.
    const full = this.#notKept.size >= this.#maxNotKept;
    for (const [sha, why] of this.#notKept) {
      const unwanted = !wanted.has(sha);
      if ((why === 'no room' && (freed || unwanted)) || (full && unwanted)) this.#notKept.delete(sha);
    }
    if (this.#notKept.size >= this.#maxNotKept) {
      // Said once each time it fills: take-overs still fetch their modules, only the standby copies stop.
      if (!this.#fullSaid) this.#c.options.logger.warn({ modules: this.#notKept.size }, 'failover: standby modules: as many modules not kept as are remembered; nothing more is fetched ahead');
      this.#fullSaid = true;
      return;
    }
    this.#fullSaid = false;
    const ownerOf = new Map<string, AgentRecord>();
    // Fetched from a live owner; a module wanted only for a pending take-over is kept if held, never fetched here.
    for (const record of records) {
      if (wanted.has(record.module_sha256) && !ownerOf.has(record.module_sha256) && alive.includes(record.node)) ownerOf.set(record.module_sha256, record);
    }
    for (const sha of wanted) {
      if (this.#standby.has(sha) || this.#fetching.has(sha) || this.#notKept.has(sha) || o.modules.has(sha)) continue;
      if (this.#fetching.size >= 2) break;
      const record = ownerOf.get(sha);
      if (record === undefined) continue;
      const owner = record.node;
      this.#fetching.add(sha);
      void this.#fetch(owner, sha)
        .then(async (bytes) => {
          this.#hold(sha, bytes, limit);
          await o.prepareModule?.(sha, bytes, record.limits.memory_pages);
        })
        .catch((error: Error) => o.logger.debug({ sha256: sha, node: owner, err: error.message }, 'failover: standby module fetch failed; retried later'))
        .finally(() => {
          this.#fetching.delete(sha);
          this.#schedule();
        });
    }
  }

  async #fetch(peer: string, sha: string): Promise<Uint8Array> {
    const o = this.#c.options;
    const bytes = await o.fetchModule(peer, sha, o.settings.moduleFetchTimeoutMs);
    if (!(bytes instanceof Uint8Array) || sha256Hex(bytes) !== sha) throw new Error(`node "${peer}" sent bytes that do not match sha256 ${sha}`);
    return bytes;
  }

  #hold(sha: string, bytes: Uint8Array, limit: number): void {
    if (this.#c.closed()) return;
    if (bytes.byteLength > limit) {
      this.#notKeptAs(sha, 'too large');
      return;
    }
    this.#standby.set(sha, bytes);
    this.#standbyBytes += bytes.byteLength;
    for (const [old, held] of this.#standby) {
      if (this.#standbyBytes <= limit) break;
      this.#standby.delete(old);
      this.#standbyBytes -= held.byteLength;
      this.#notKeptAs(old, 'no room');
    }
  }

  /** Remembers a module not kept, within the bound (keep fetches nothing ahead while it is full). */
  #notKeptAs(sha: string, why: 'too large' | 'no room'): void {
    if (this.#notKept.size < this.#maxNotKept) this.#notKept.set(sha, why);
  }
}

/**
 * Modules fetched ahead and not kept that are remembered (~150 B each): a module wanted past it is left to its
 * take-over. Filling it takes that many downloads of modules this node would take over, each once.
 */
const MAX_NOT_KEPT = 4096;

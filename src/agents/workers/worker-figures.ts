// What an agent worker tells the main thread about its agents' counters (worker-protocol.ts FIGURE_*): each
// agent's figures in a slot of a shared-memory page, written at the end of a turn in which they changed, and
// its invocation counts with each timed invocation's own duration, kept until the metrics leave (every few
// ms, or with an answer).
//
// Per agent, a Tally says what the next batch owes. Tallies are kept across batches and listed when they
// change, not a Set and a Map cleared every turn: refilling those (a rehash as they grow back) was a
// twentieth of a busy worker's time.
import type { AgentStats } from '../agent-types.ts';
import type { InvocationKind, InvocationOutcome } from '../runtime-observer.ts';
import { FIGURE, FIGURE_FIELDS, FIGURE_PAGE_BITS, INVOCATION_CELL, INVOCATION_KINDS, INVOCATION_OUTCOMES, type FromWorker } from './worker-protocol.ts';

/** What the figures need from the worker around them. */
export interface FiguresHost {
  /** Adds an item to the next batch to the main thread. */
  push(item: FromWorker): void;
  /** Asks for the next batch to leave at the end of this turn. */
  wantFlush(): void;
  /** The agent's counters, or undefined when it is not on this worker. */
  counters(agent: string): { stats: Readonly<Omit<AgentStats, 'mailbox_depth' | 'memory_pages'>>; mailboxDepth: number; memoryPages: number } | undefined;
  /** The agent's stats as the API shows them (sent when its traps or last error changed). */
  stats(agent: string): AgentStats;
  /** Messages from the main thread in the agent's mailbox, which the main thread counts itself. */
  fromMain(agent: string): number;
}

interface Tally {
  readonly name: string;
  /** Count and how many were timed, per (kind, outcome), summed until the metrics leave. */
  readonly cells: Float64Array;
  /** The timed invocations' (cell, duration ns) pairs since the metrics last left: each is reported as it was. */
  readonly timings: number[];
  /** In `dirty`: its figures changed since the last batch. */
  dirty: boolean;
  /** In `counted`: its cells hold invocations not sent yet. */
  counted: boolean;
}

const KINDS = INVOCATION_KINDS;
const OUTCOMES = INVOCATION_OUTCOMES;
const KIND_INDEX: Record<InvocationKind, number> = { init: 0, message: 1, timer: 2, shutdown: 3 };
const OUTCOME_INDEX: Record<InvocationOutcome, number> = { ok: 0, error: 1, trap: 2 };
const PAGE_SLOTS = 1 << FIGURE_PAGE_BITS;

export class WorkerFigures {
  readonly #host: FiguresHost;
  readonly #tallies = new Map<string, Tally>();
  /** Agents whose figures changed since the last batch. */
  #dirty: Tally[] = [];
  /** Agents with invocations the metrics have not reported yet. */
  #counted: Tally[] = [];
  /** Deliveries between agents of this worker since the metrics last left. */
  #localRouted = 0;
  /** Of #localRouted, deliveries that came from other workers over the direct channel. */
  #directRouted = 0;
  readonly #pages: Float64Array[] = [];
  readonly #slotOf = new Map<string, number>();
  readonly #freeSlots: number[] = [];
  #nextSlot = 0;
  /** Per agent: the traps and last error the main thread was last sent (they change rarely: posted then). */
  readonly #posted = new Map<string, { traps: number; lastError: string | null }>();
  #packed = new Float64Array(64 * INVOCATION_CELL);
  #packedDurations = new Float64Array(64);

  constructor(host: FiguresHost) {
    this.#host = host;
  }

  /** Figures changed since the last batch. */
  get changed(): boolean {
    return this.#dirty.length > 0;
  }

  /** Invocations or deliveries not reported yet. */
  get uncounted(): boolean {
    return this.#counted.length > 0 || this.#localRouted > 0;
  }

  /** The agent's figures changed (a delivery, a state change). */
  touch(agent: string): void {
    this.#markDirty(this.#tallyOf(agent));
  }

  invocation(agent: string, kind: InvocationKind, durationNs: number, outcome: InvocationOutcome): void {
    const tally = this.#tallyOf(agent);
    const cell = KIND_INDEX[kind] * OUTCOMES.length + OUTCOME_INDEX[outcome];
    tally.cells[cell * 2]++;
    if (durationNs > 0) {
      tally.cells[cell * 2 + 1]++;
      tally.timings.push(cell, durationNs);
    }
    if (!tally.counted) {
      tally.counted = true;
      this.#counted.push(tally);
    }
    this.#markDirty(tally);
  }

  /** A delivery between agents of this worker that the main thread does not see one by one. */
  routedHere(direct: boolean): void {
    this.#localRouted++;
    if (direct) this.#directRouted++;
  }

  /** The agent left this worker: its slot is cleared for the next one. */
  freeSlot(agent: string): void {
    const slot = this.#slotOf.get(agent);
    this.#posted.delete(agent);
    const tally = this.#tallies.get(agent);
    if (tally !== undefined) {
      tally.dirty = false;
      // Its invocations not reported yet (agent_shutdown's) leave by name with the next metrics.
      if (!tally.counted) this.#tallies.delete(agent);
    }
    if (slot === undefined) return;
    this.#slotOf.delete(agent);
    const at = (slot & (PAGE_SLOTS - 1)) * FIGURE_FIELDS;
    this.#pages[slot >>> FIGURE_PAGE_BITS].fill(0, at, at + FIGURE_FIELDS);
    this.#freeSlots.push(slot);
  }

  /** Writes the changed agents' figures into their slots; their stats leave by post when traps or errors changed. */
  writeFigures(): void {
    let changed: { name: string; stats: AgentStats }[] | undefined;
    const list = this.#dirty;
    this.#dirty = [];
    for (let i = 0; i < list.length; i++) {
      const tally = list[i];
      if (!tally.dirty) continue; // left this worker meanwhile
      tally.dirty = false;
      const name = tally.name;
      const counters = this.#host.counters(name);
      if (counters === undefined) continue;
      const stats = counters.stats;
      const slot = this.#slotFor(name);
      const cells = this.#pages[slot >>> FIGURE_PAGE_BITS];
      const at = (slot & (PAGE_SLOTS - 1)) * FIGURE_FIELDS;
      cells[at + FIGURE.invocations] = stats.invocations;
      cells[at + FIGURE.traps] = stats.traps;
      cells[at + FIGURE.fuel_used] = stats.fuel_used;
      cells[at + FIGURE.memory_pages] = counters.memoryPages;
      cells[at + FIGURE.messages_in] = stats.messages_in;
      cells[at + FIGURE.messages_out] = stats.messages_out;
      // The main thread counts what it handed over and no mailbox took yet (some still on their way here); the
      // depth written is what only this thread knows: sends from agents of this worker, waiting.
      cells[at + FIGURE.local_mailbox_depth] = Math.max(0, counters.mailboxDepth - this.#host.fromMain(name));
      const last = this.#posted.get(name);
      if (last === undefined || last.traps !== stats.traps || last.lastError !== stats.last_error) {
        this.#posted.set(name, { traps: stats.traps, lastError: stats.last_error });
        (changed ??= []).push({ name, stats: this.#host.stats(name) });
      }
    }
    if (changed !== undefined) this.#host.push({ t: 'figures', agents: changed });
  }

  /** Sends the invocations since the last time (counts, and each timed one's duration), and the local deliveries. */
  pushMetrics(): void {
    let n = 0;
    let d = 0;
    const list = this.#counted;
    this.#counted = [];
    for (let i = 0; i < list.length; i++) {
      const tally = list[i];
      tally.counted = false;
      const agent = tally.name;
      const { cells, timings } = tally;
      const slot = this.#slotOf.get(agent);
      if (slot === undefined && this.#tallies.get(agent) === tally && !tally.dirty) this.#tallies.delete(agent);
      for (let cell = 0; cell < KINDS.length * OUTCOMES.length; cell++) {
        const count = cells[cell * 2];
        if (count === 0) continue;
        const timed = cells[cell * 2 + 1];
        const k = Math.floor(cell / OUTCOMES.length);
        const o = cell % OUTCOMES.length;
        if (slot === undefined) {
          // Gone from this worker (its agent_shutdown on a release or removal): by name.
          this.#host.push({ t: 'invocations', agent, kind: KINDS[k], outcome: OUTCOMES[o], count, durations: durationsOf(timings, cell) });
          continue;
        }
        if ((n + 1) * INVOCATION_CELL > this.#packed.length) this.#packed = grown(this.#packed, (n + 1) * INVOCATION_CELL);
        if (d + timed > this.#packedDurations.length) this.#packedDurations = grown(this.#packedDurations, d + timed);
        const packed = this.#packed;
        const base = n * INVOCATION_CELL;
        packed[base] = slot;
        packed[base + 1] = k;
        packed[base + 2] = o;
        packed[base + 3] = count;
        packed[base + 4] = timed;
        n++;
        // The cell's timed durations, in the order they ran: `timed` of them.
        for (let t = 0; t < timings.length; t += 2) if (timings[t] === cell) this.#packedDurations[d++] = timings[t + 1];
      }
      cells.fill(0);
      timings.length = 0;
    }
    if (n > 0) {
      this.#host.push({ t: 'invocation-cells', cells: this.#packed.slice(0, n * INVOCATION_CELL), durations: this.#packedDurations.slice(0, d) });
    }
    if (this.#localRouted > 0) {
      this.#host.push({ t: 'routed-count', n: this.#localRouted, direct: this.#directRouted });
      this.#localRouted = 0;
      this.#directRouted = 0;
    }
  }

  #tallyOf(agent: string): Tally {
    let tally = this.#tallies.get(agent);
    if (tally === undefined) {
      tally = { name: agent, cells: new Float64Array(KINDS.length * OUTCOMES.length * 2), timings: [], dirty: false, counted: false };
      this.#tallies.set(agent, tally);
    }
    return tally;
  }

  #markDirty(tally: Tally): void {
    if (!tally.dirty) {
      tally.dirty = true;
      this.#dirty.push(tally);
    }
    this.#host.wantFlush();
  }

  #slotFor(agent: string): number {
    let slot = this.#slotOf.get(agent);
    if (slot !== undefined) return slot;
    slot = this.#freeSlots.pop() ?? this.#nextSlot++;
    const page = slot >>> FIGURE_PAGE_BITS;
    while (this.#pages.length <= page) {
      const buffer = new SharedArrayBuffer(PAGE_SLOTS * FIGURE_FIELDS * 8);
      this.#pages.push(new Float64Array(buffer));
      this.#host.push({ t: 'figure-page', page: this.#pages.length - 1, buffer });
    }
    this.#slotOf.set(agent, slot);
    this.#host.push({ t: 'figure-slot', agent, slot });
    return slot;
  }
}

/** The durations of `cell` among (cell, duration) pairs, in order. */
function durationsOf(timings: readonly number[], cell: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < timings.length; t += 2) if (timings[t] === cell) out.push(timings[t + 1]);
  return out;
}

/** A copy of `array` with room for at least `length` numbers (doubling). */
function grown(array: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  let capacity = array.length * 2;
  while (capacity < length) capacity *= 2;
  const bigger = new Float64Array(capacity);
  bigger.set(array);
  return bigger;
}

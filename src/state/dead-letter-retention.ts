// Which dead letters are kept: at most `maxRows` (and `maxBytes`) in all, and at most `maxPerParty` rows (and
// the same share of `maxBytes`) naming any one address, as the message's sender or as the receiver it failed
// for; the newest are kept. Per address, so one party flooding a full mailbox (1.28 M MAILBOX_FULL in 8 s, issue
// 10) drops its own oldest rather than every other party's. Both ends count because a flooder is always one of
// them but not always the sender: the failure the host answers a message to `ghost-1`, `ghost-2`, ... with
// names that ghost as its sender, and when the flooder does not take it (a client not waiting, a full mailbox)
// it is a dead letter of a new "sender" each time; counted by sender alone, 10,000 such sends evicted every
// other dead letter. Pure bookkeeping over ids (ascending with time); the store deletes what this says to drop.
// Memory: O(rows kept), with dropped ids compacted away as they pile up.

/** Ids of one address, oldest first (dropped ones skipped lazily), with what of them is kept. */
class PartyQueue {
  ids: number[] = [];
  head = 0;
  rows = 0;
  bytes = 0;
}

interface KeptRow {
  readonly parties: readonly string[];
  /** Its stored size once weighed (the store serializes a row when it writes it); 0 until then. */
  bytes: number;
}

/** Listed ids (in queues and in `order`) may exceed twice the rows kept by this much before a compaction. */
const COMPACTION_SLACK = 2048;

export class DeadLetterRetention {
  private readonly byParty = new Map<string, PartyQueue>();
  private readonly rows = new Map<number, KeptRow>();
  /** Every id listed, oldest first; the dropped ones are skipped and compacted away. */
  private order: number[] = [];
  private orderHead = 0;
  /** Ids listed in the party queues, kept or not: what compaction bounds. */
  private listedInQueues = 0;
  private totalBytes = 0;
  private readonly maxBytesPerParty: number;

  /** A party may hold the share of `maxBytes` that `maxPerParty` is of `maxRows`. */
  constructor(
    private readonly maxRows: number,
    private readonly maxPerParty: number,
    private readonly maxBytes = Infinity,
  ) {
    this.maxBytesPerParty = maxBytes === Infinity ? Infinity : Math.floor((maxBytes * Math.min(maxPerParty, maxRows)) / maxRows);
  }

  /** Rows kept now. */
  get size(): number {
    return this.rows.size;
  }

  /** Bytes of the rows kept and weighed. */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * A new dead letter from `sender`, failed for `receiver` when known; `drop` is called for each id that must go
   * (this one is never among them).
   */
  add(id: number, sender: string, drop: (id: number) => void, receiver?: string): void {
    const parties = receiver === undefined || receiver === sender ? [sender] : [sender, receiver];
    this.rows.set(id, { parties, bytes: 0 });
    this.order.push(id);
    for (const party of parties) {
      let queue = this.byParty.get(party);
      if (!queue) this.byParty.set(party, (queue = new PartyQueue()));
      queue.ids.push(id);
      queue.rows++;
      this.listedInQueues++;
    }
    for (const party of parties) {
      const queue = this.byParty.get(party);
      while (queue !== undefined && queue.rows > this.maxPerParty) this.dropOldestOf(queue, drop);
    }
    while (this.rows.size > this.maxRows) this.dropOldest(drop);
    this.compact();
  }

  /**
   * The size of a kept row, once known (or first estimated, then stored): past a byte bound the oldest go (never
   * the last row of a party).
   */
  weigh(id: number, bytes: number, drop: (id: number) => void): void {
    const row = this.rows.get(id);
    if (row === undefined) return;
    const change = bytes - row.bytes;
    row.bytes = bytes;
    this.totalBytes += change;
    for (const party of row.parties) this.byParty.get(party)!.bytes += change;
    for (const party of row.parties) {
      const queue = this.byParty.get(party);
      while (queue !== undefined && queue.bytes > this.maxBytesPerParty && queue.rows > 1) this.dropOldestOf(queue, drop);
    }
    while (this.totalBytes > this.maxBytes && this.rows.size > 1) this.dropOldest(drop);
    this.compact();
  }

  /** Forgets a row that was never stored (it could not be serialized), without telling the store. */
  forget(id: number): void {
    if (this.rows.has(id)) this.dropId(id, () => {});
  }

  /** Forgets every id (the store was purged). */
  clear(): void {
    this.byParty.clear();
    this.rows.clear();
    this.order = [];
    this.orderHead = 0;
    this.listedInQueues = 0;
    this.totalBytes = 0;
  }

  private dropOldestOf(queue: PartyQueue, drop: (id: number) => void): void {
    for (;;) {
      const id = queue.ids[queue.head++];
      this.listedInQueues--;
      if (queue.head > 1024 && queue.head * 2 > queue.ids.length) {
        queue.ids = queue.ids.slice(queue.head);
        queue.head = 0;
      }
      if (this.rows.has(id)) {
        this.dropId(id, drop);
        return;
      }
    }
  }

  private dropOldest(drop: (id: number) => void): void {
    for (;;) {
      const id = this.order[this.orderHead++];
      if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
        this.order = this.order.slice(this.orderHead);
        this.orderHead = 0;
      }
      if (this.rows.has(id)) {
        this.dropId(id, drop);
        return;
      }
    }
  }

  private dropId(id: number, drop: (id: number) => void): void {
    const row = this.rows.get(id)!;
    this.rows.delete(id);
    this.totalBytes -= row.bytes;
    for (const party of row.parties) {
      const queue = this.byParty.get(party)!;
      queue.rows--;
      queue.bytes -= row.bytes;
      if (queue.rows === 0) {
        this.listedInQueues -= queue.ids.length - queue.head;
        this.byParty.delete(party);
      }
    }
    drop(id);
  }

  /** The lists shed the ids dropped from them once those outnumber the kept ones. */
  private compact(): void {
    const kept = this.rows.size;
    if (this.order.length - this.orderHead > 2 * kept + COMPACTION_SLACK) {
      this.order = this.order.slice(this.orderHead).filter((id) => this.rows.has(id));
      this.orderHead = 0;
    }
    if (this.listedInQueues > 4 * kept + COMPACTION_SLACK) {
      this.listedInQueues = 0;
      for (const queue of this.byParty.values()) {
        queue.ids = queue.ids.slice(queue.head).filter((id) => this.rows.has(id));
        queue.head = 0;
        this.listedInQueues += queue.ids.length;
      }
    }
  }
}

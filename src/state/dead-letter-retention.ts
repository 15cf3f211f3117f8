// Which dead letters are kept: at most `maxRows` in all and at most `maxPerSender` of any one sender, the
// newest. Per sender, so one agent flooding a full mailbox (1.28 M MAILBOX_FULL in 8 s, issue 10) drops its
// own oldest rather than every other sender's. Pure bookkeeping over ids (ascending with time); the store
// deletes what this says to drop. Memory: O(rows kept), with dropped ids compacted away as they pile up.

/** Ids of one sender, oldest first, with a moving head instead of Array#shift. */
class IdQueue {
  ids: number[] = [];
  head = 0;
  get length(): number {
    return this.ids.length - this.head;
  }
  push(id: number): void {
    this.ids.push(id);
  }
  shift(): number {
    const id = this.ids[this.head++];
    if (this.head > 1024 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
    return id;
  }
  peek(): number {
    return this.ids[this.head];
  }
}

export class DeadLetterRetention {
  private readonly bySender = new Map<string, IdQueue>();
  /** Every id kept or dropped-but-not-yet-skipped, oldest first, with its sender. */
  private order: { id: number; sender: string }[] = [];
  private orderHead = 0;
  /** Ids dropped for the per-sender quota that `order` still lists. */
  private readonly droppedInOrder = new Set<number>();
  private kept = 0;

  constructor(
    private readonly maxRows: number,
    private readonly maxPerSender: number,
  ) {}

  /** Rows kept now. */
  get size(): number {
    return this.kept;
  }

  /** A new dead letter of `sender`; `drop` is called for each id that must go (this one is never among them). */
  add(id: number, sender: string, drop: (id: number) => void): void {
    let queue = this.bySender.get(sender);
    if (!queue) this.bySender.set(sender, (queue = new IdQueue()));
    queue.push(id);
    this.order.push({ id, sender });
    this.kept++;
    if (queue.length > this.maxPerSender) {
      const oldest = queue.shift();
      this.droppedInOrder.add(oldest);
      this.kept--;
      drop(oldest);
    }
    while (this.kept > this.maxRows) {
      const entry = this.order[this.orderHead++];
      if (this.droppedInOrder.delete(entry.id)) continue;
      // The oldest kept id overall is also the oldest of its sender.
      const senderQueue = this.bySender.get(entry.sender)!;
      senderQueue.shift();
      if (senderQueue.length === 0) this.bySender.delete(entry.sender);
      this.kept--;
      drop(entry.id);
    }
    this.compact();
  }

  /** Forgets every id (the store was purged). */
  clear(): void {
    this.bySender.clear();
    this.order = [];
    this.orderHead = 0;
    this.droppedInOrder.clear();
    this.kept = 0;
  }

  /** `order` sheds its consumed head and the ids dropped for the quota once they outnumber the kept ones. */
  private compact(): void {
    if (this.order.length - this.orderHead <= 2 * this.kept + 1024) return;
    this.order = this.order.slice(this.orderHead).filter((e) => !this.droppedInOrder.has(e.id));
    this.orderHead = 0;
    this.droppedInOrder.clear();
    for (const [sender, queue] of this.bySender) if (queue.length === 0) this.bySender.delete(sender);
  }
}

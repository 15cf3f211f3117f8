// A Map that keeps its entries in age order (the oldest set first) and finds, drops or walks from the
// oldest in O(1) per entry. A plain Map bounded the obvious way (`delete(map.keys().next().value)` past the
// bound) is O(n) per trim once many entries were deleted: V8 leaves deleted slots in the insertion order until
// its next rehash, and every iteration from the start skips all of them (see recent-set.ts for the figures;
// bench/age-ordered-map.ts measures both). Here the order is a doubly linked list beside the Map, so the
// oldest is the list's head and deleting any entry unlinks it.
//
// Deleting entries while iterating is safe (a deleted entry not yet reached is not visited); an entry set
// while iterating may or may not be visited.

interface Node<K, V> {
  readonly key: K;
  value: V;
  prev: Node<K, V> | undefined;
  next: Node<K, V> | undefined;
  removed: boolean;
}

export class AgeOrderedMap<K, V> {
  readonly #nodes = new Map<K, Node<K, V>>();
  #head: Node<K, V> | undefined;
  #tail: Node<K, V> | undefined;

  get size(): number {
    return this.#nodes.size;
  }

  has(key: K): boolean {
    return this.#nodes.has(key);
  }

  get(key: K): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /** Sets `key` to `value` as the youngest entry (an existing entry moves to the young end). */
  set(key: K, value: V): void {
    const existing = this.#nodes.get(key);
    if (existing !== undefined) this.#unlink(existing);
    const node: Node<K, V> = { key, value, prev: this.#tail, next: undefined, removed: false };
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#nodes.set(key, node);
  }

  /** Changes the value of an existing entry, keeping its age; false when `key` is absent. */
  replace(key: K, value: V): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    node.value = value;
    return true;
  }

  delete(key: K): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#unlink(node);
    this.#nodes.delete(key);
    return true;
  }

  /** The oldest entry's key, if any. */
  oldestKey(): K | undefined {
    return this.#head?.key;
  }

  /** Removes the oldest entry and returns its key, if any. */
  shift(): K | undefined {
    const head = this.#head;
    if (head === undefined) return undefined;
    this.#unlink(head);
    this.#nodes.delete(head.key);
    return head.key;
  }

  clear(): void {
    for (let node = this.#head; node !== undefined; node = node.next) node.removed = true;
    this.#nodes.clear();
    this.#head = this.#tail = undefined;
  }

  /** Entries from the oldest to the youngest. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    let node = this.#head;
    while (node !== undefined) {
      if (!node.removed) yield [node.key, node.value];
      // A node unlinked meanwhile keeps its `next`, which leads back to the entries still held.
      node = node.next;
    }
  }

  *keys(): IterableIterator<K> {
    for (const [key] of this) yield key;
  }

  #unlink(node: Node<K, V>): void {
    node.removed = true;
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
  }
}

// Conversations in order of last activity, oldest first, as an intrusive doubly-linked list: touching and
// forgetting are O(1) and allocate nothing. (A Map re-inserted on each touch was tried first: its deleted
// slots pile up at the front, and finding the oldest entry skips all of them, so eviction became O(n).)

export interface ActivityNode<T extends ActivityNode<T>> {
  older: T | undefined;
  newer: T | undefined;
}

export class ActivityList<T extends ActivityNode<T>> {
  #oldest: T | undefined;
  #newest: T | undefined;

  get oldest(): T | undefined {
    return this.#oldest;
  }

  /** Appends a node not in the list as the newest. */
  push(node: T): void {
    node.older = this.#newest;
    node.newer = undefined;
    if (this.#newest === undefined) this.#oldest = node;
    else this.#newest.newer = node;
    this.#newest = node;
  }

  remove(node: T): void {
    if (node.older === undefined) this.#oldest = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === undefined) this.#newest = node.older;
    else node.newer.older = node.older;
    node.older = undefined;
    node.newer = undefined;
  }

  /** Makes a node already in the list the newest. */
  touch(node: T): void {
    if (this.#newest === node) return;
    this.remove(node);
    this.push(node);
  }

  clear(): void {
    this.#oldest = undefined;
    this.#newest = undefined;
  }
}

// Live node events for GET /api/v1/events: a listener that throws is dropped from this event, never from
// the node; nothing is buffered (a client that was not listening has not missed anything it could ask for).
import type { NodeEvent } from './services.ts';

export class EventBus {
  readonly #listeners = new Set<(event: NodeEvent) => void>();

  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(type: string, data: Record<string, unknown>): void {
    if (this.#listeners.size === 0) return;
    const event: NodeEvent = { type, ts: new Date().toISOString(), data };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A broken subscriber (a closed stream) must not stop the others.
      }
    }
  }
}

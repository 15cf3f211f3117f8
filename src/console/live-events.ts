// The node's event stream (GET /api/v1/events), opened once after login and shared by every view: the
// cluster map, the agent list and the sniffer each subscribe to the event types they draw.
import { followEvents } from './api.ts';
import type { NodeEvent } from './types.ts';

type Listener = (event: NodeEvent) => void;

export class LiveEvents {
  readonly #listeners = new Set<Listener>();
  readonly #statusListeners = new Set<(connected: boolean) => void>();
  #abort: AbortController | undefined;
  connected = false;

  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    void followEvents(
      '/api/v1/events',
      (event) => {
        const data = event.data as NodeEvent;
        if (typeof data !== 'object' || data === null) return;
        for (const listener of this.#listeners) {
          try {
            listener(data);
          } catch (error) {
            console.error('event listener failed', error);
          }
        }
      },
      this.#abort.signal,
      (connected) => {
        this.connected = connected;
        for (const listener of this.#statusListeners) listener(connected);
      },
    );
  }

  stop(): void {
    this.#abort?.abort();
    this.#abort = undefined;
  }

  /** Returns the unsubscribe function (a view calls it when it goes away). */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onStatus(listener: (connected: boolean) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }
}

export const liveEvents = new LiveEvents();

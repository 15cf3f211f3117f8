// The node's event stream (GET /api/v1/events), opened once after login and shared by every view: the
// cluster map, the agent list and the sniffer each subscribe to the event types they draw.
import { followEvents } from './api.ts';
import type { NodeEvent } from './types.ts';

type Listener = (event: NodeEvent) => void;

/** Conversations remembered for the sniffer's picker, newest first. */
const RECENT_CONVERSATIONS = 12;

export interface RecentConversation {
  id: string;
  protocol: string | null;
  /** The latest change seen (opened, ended, timed-out, rejected…), or 'message'. */
  last: string;
}

export class LiveEvents {
  readonly #listeners = new Set<Listener>();
  readonly #statusListeners = new Set<(connected: boolean) => void>();
  #abort: AbortController | undefined;
  connected = false;
  /** The conversations seen since login (bounded), so the sniffer can offer them. */
  readonly recent: RecentConversation[] = [];

  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    void followEvents(
      '/api/v1/events',
      (event) => {
        const data = event.data as NodeEvent;
        if (typeof data !== 'object' || data === null || typeof data.data !== 'object' || data.data === null) return;
        this.#remember(data);
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

  #remember(event: NodeEvent): void {
    if (event.type !== 'message' && event.type !== 'conversation') return;
    const id = event.data.conversation_id;
    if (typeof id !== 'string' || id === '') return;
    const at = this.recent.findIndex((c) => c.id === id);
    const known = at >= 0 ? this.recent.splice(at, 1)[0] : undefined;
    const protocol = typeof event.data.protocol === 'string' ? event.data.protocol : (known?.protocol ?? null);
    const last = event.type === 'conversation' ? String(event.data.change) : (known?.last ?? 'message');
    this.recent.unshift({ id, protocol, last });
    if (this.recent.length > RECENT_CONVERSATIONS) this.recent.pop();
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

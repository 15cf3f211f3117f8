// One state backend per node, opened on first use and shared by the built-in `state` tool server (agents)
// and the API's /api/v1/state routes (operators), so both see the same values through one pool. A failed
// open (PostgreSQL unreachable) is not remembered: the next use tries again.
import type { StateBackend } from './state-backend.ts';

export class SharedStateBackend {
  #opening: Promise<StateBackend> | undefined;

  constructor(private readonly open: () => Promise<StateBackend>) {}

  get(): Promise<StateBackend> {
    if (!this.#opening) {
      const opening = this.open();
      this.#opening = opening;
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  /** Closes the backend if it was opened. */
  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    if (!opening) return;
    try {
      await (await opening).close();
    } catch {
      // It never opened: nothing to close.
    }
  }
}

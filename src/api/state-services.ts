// What /api/v1/state needs: the node's state backend (the one its agents' state tool uses). An extension
// beside NodeServices, passed to buildApi as `state`.
import type { StateBackend } from '../tools/state/state-backend.ts';

export interface StateServices {
  /** Opened on first use; rejects when it cannot be opened (PostgreSQL unreachable). */
  backend(): Promise<StateBackend>;
}

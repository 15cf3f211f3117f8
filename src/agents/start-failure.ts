// Why a new instance could not start: instantiation or agent_init trapped, or agent_init returned
// non-zero. At deploy it becomes the INVALID_MODULE error the user sees; later it counts as a trap.
import { CaxtonError } from '../errors.ts';
import type { TrapInfo } from './trap-reason.ts';

export class StartFailure extends Error {
  constructor(
    readonly trap: TrapInfo,
    readonly phase: 'instantiate' | 'agent_init',
    readonly result?: number,
  ) {
    super(trap.detail);
    this.name = 'StartFailure';
  }

  toCaxtonError(agent: string): CaxtonError {
    const what = this.trap.reason === 'init_failed' ? this.trap.detail : `${this.phase} trapped (${this.trap.reason}): ${this.trap.detail}`;
    return new CaxtonError('INVALID_MODULE', `agent "${agent}" failed to start: ${what}`, {
      phase: this.phase,
      reason: this.trap.reason,
      ...(this.result !== undefined ? { result: this.result } : {}),
    });
  }
}

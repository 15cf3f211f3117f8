// Constants of ../shared/spec/agent-abi.md (ABI version 1). Changing any of these breaks every agent built.

export const ABI_VERSION = 1;
export const IMPORT_MODULE = 'caxton';
export const WASI_MODULE = 'wasi_snapshot_preview1';

/** Negative i32 results of host calls. */
export const AbiError = {
  INVALID_ARGUMENT: -1,
  TOO_LARGE: -2,
  QUOTA_EXCEEDED: -3,
  PERMISSION_DENIED: -4,
  NOT_FOUND: -5,
  UNAVAILABLE: -6,
} as const;

/** Imports of module `caxton` with their wasm signatures (params → results). */
export const HOST_IMPORTS: Record<string, { params: string[]; results: string[] }> = {
  send_message: { params: ['i32', 'i32'], results: ['i32'] },
  log: { params: ['i32', 'i32', 'i32'], results: [] },
  now_micros: { params: [], results: ['i64'] },
  random_fill: { params: ['i32', 'i32'], results: ['i32'] },
  set_timer: { params: ['i32'], results: ['i32'] },
  cancel_timer: { params: ['i32'], results: ['i32'] },
  agent_name: { params: ['i32', 'i32'], results: ['i32'] },
  call_tool: { params: ['i32', 'i32'], results: ['i32'] },
};

/**
 * Signatures of the WASI preview 1 functions the shim implements (wasi-shim.ts). Every other WASI function answers
 * ENOSYS, an errno, so it must at least return one i32: an import declared otherwise trapped on every call.
 */
export const WASI_IMPORTS: Record<string, { params: string[]; results: string[] }> = {
  fd_write: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] },
  fd_fdstat_get: { params: ['i32', 'i32'], results: ['i32'] },
  fd_seek: { params: ['i32', 'i64', 'i32', 'i32'], results: ['i32'] },
  fd_close: { params: ['i32'], results: ['i32'] },
  clock_time_get: { params: ['i32', 'i64', 'i32'], results: ['i32'] },
  random_get: { params: ['i32', 'i32'], results: ['i32'] },
  proc_exit: { params: ['i32'], results: [] },
};

export const REQUIRED_EXPORTS = {
  memory: 'memory',
  agent_alloc: { params: ['i32'], results: ['i32'] },
  handle_message: { params: ['i32', 'i32'], results: ['i32'] },
} as const;

export const OPTIONAL_EXPORTS: Record<string, { params: string[]; results: string[] }> = {
  agent_init: { params: [], results: ['i32'] },
  handle_timer: { params: ['i32'], results: [] },
  agent_shutdown: { params: [], results: [] },
  _initialize: { params: [], results: [] },
};

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** After this many traps inside TRAP_WINDOW_MS an agent is `failed`. */
export const TRAPS_BEFORE_FAILED = 5;
export const TRAP_WINDOW_MS = 60_000;

// The sandboxed WASI preview 1 of ../shared/spec/agent-abi.md: no arguments, environment, files or
// sockets. stdout/stderr go to the agent log, clocks and randomness work, proc_exit ends the invocation
// as a trap, and everything else answers ENOSYS. The fd_fdstat_get/fd_seek/fd_close answers on fd 1/2
// are what wasi-libc's stdio asks before it writes, so printf works.
import { randomFillSync } from 'node:crypto';
import type { InstanceHost } from './host-imports.ts';

/** WASI errno values used here. */
const ERRNO = { SUCCESS: 0, BADF: 8, FAULT: 21, INVAL: 28, NOSYS: 52, SPIPE: 70 } as const;
const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHTS_FD_WRITE = 1n << 6n;
const FDSTAT_SIZE = 24;
const CLOCK = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

/** Thrown by proc_exit: unwinds the wasm stack, and the runtime records the invocation as a trap. */
export class ProcExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`proc_exit(${exitCode})`);
    this.name = 'ProcExitError';
    this.exitCode = exitCode;
  }
}

const isStdio = (fd: number): boolean => fd === 1 || fd === 2;

type WasiFunction = (...args: never[]) => unknown;

function shim(host: InstanceHost): Record<string, WasiFunction> {
  return {
    fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number => {
      if (!isStdio(fd)) return ERRNO.BADF;
      const count = iovsLen >>> 0;
      if (count > 1024 || !host.inRange(iovs, count * 8) || !host.inRange(nwrittenPtr, 4)) return ERRNO.FAULT;
      host.chargeBytes(count * 8);
      const mem = host.bytes();
      let written = 0;
      for (let i = 0; i < count; i++) {
        const ptr = mem.readUInt32LE((iovs >>> 0) + i * 8);
        const len = mem.readUInt32LE((iovs >>> 0) + i * 8 + 4);
        if (!host.inRange(ptr, len)) return ERRNO.FAULT;
        // Each iovec may name the whole memory again: its bytes are charged before they are decoded.
        host.chargeBytes(len);
        if (len > 0) host.writeStdio(fd, mem.subarray(ptr, ptr + len));
        written += len;
      }
      mem.writeUInt32LE(written >>> 0, nwrittenPtr >>> 0);
      return ERRNO.SUCCESS;
    },
    fd_fdstat_get: (fd: number, statPtr: number): number => {
      if (!isStdio(fd)) return ERRNO.BADF;
      if (!host.inRange(statPtr, FDSTAT_SIZE)) return ERRNO.FAULT;
      const mem = host.bytes();
      const at = statPtr >>> 0;
      mem.fill(0, at, at + FDSTAT_SIZE);
      mem.writeUInt8(FILETYPE_CHARACTER_DEVICE, at);
      mem.writeBigUInt64LE(RIGHTS_FD_WRITE, at + 8);
      return ERRNO.SUCCESS;
    },
    fd_seek: (fd: number): number => (isStdio(fd) ? ERRNO.SPIPE : ERRNO.BADF),
    fd_close: (fd: number): number => {
      if (!isStdio(fd)) return ERRNO.BADF;
      host.flushStdio(fd);
      return ERRNO.SUCCESS;
    },
    clock_time_get: (clockId: number, _precision: bigint, timePtr: number): number => {
      if (!host.inRange(timePtr, 8)) return ERRNO.FAULT;
      let ns: bigint;
      if (clockId === CLOCK.REALTIME) ns = BigInt(Math.round(host.bindings.now() * 1e6));
      else if (clockId === CLOCK.MONOTONIC || clockId === CLOCK.PROCESS_CPUTIME || clockId === CLOCK.THREAD_CPUTIME) {
        ns = process.hrtime.bigint();
      } else return ERRNO.INVAL;
      host.bytes().writeBigUInt64LE(ns, timePtr >>> 0);
      return ERRNO.SUCCESS;
    },
    random_get: (ptr: number, len: number): number => {
      if (!host.inRange(ptr, len)) return ERRNO.FAULT;
      host.chargeBytes(len >>> 0);
      randomFillSync(host.bytes(), ptr >>> 0, len >>> 0);
      return ERRNO.SUCCESS;
    },
    proc_exit: (code: number): never => {
      throw new ProcExitError(code);
    },
  };
}

const enosys: WasiFunction = () => ERRNO.NOSYS;

/** The `wasi_snapshot_preview1` import object for exactly the functions the module imports. */
export function wasiImports(host: InstanceHost, importedNames: readonly string[]): Record<string, WasiFunction> {
  const available = shim(host);
  const imports: Record<string, WasiFunction> = {};
  for (const name of importedNames) imports[name] = Object.hasOwn(available, name) ? available[name] : enosys;
  return imports;
}

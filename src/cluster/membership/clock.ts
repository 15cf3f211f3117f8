// What the SWIM core needs from its surroundings besides the network: time, timers, randomness and a log.
// Injected so the simulator can drive 1,000 nodes in virtual time with the very same code.

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** A uniform number in [0, 1); seeded in tests and the simulator. */
export type Random = () => number;

export interface MembershipLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: MembershipLogger = { debug() {}, info() {}, warn() {} };

/** The real clock for a node process (the core itself never touches Date.now or setTimeout). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (delayMs, fn) => {
    const t = setTimeout(fn, delayMs);
    t.unref?.();
    return t;
  },
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Random integer in [0, n); 0 when n is 0 (memberlist's randomOffset). */
export function randomOffset(random: Random, n: number): number {
  return n <= 0 ? 0 : Math.floor(random() * n);
}

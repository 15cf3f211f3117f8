// Waiting for acks by sequence number (memberlist setProbeChannels / setAckHandler / invokeAckHandler).
import type { Core } from './core.ts';

/** Registers handlers for seqNo; after timeoutMs the registration is dropped and onTimeout runs. */
export function setAckHandler(
  core: Core,
  seqNo: number,
  timeoutMs: number,
  handlers: { onAck: () => void; onNack?: () => void; onTimeout?: () => void },
): void {
  const timer = core.clock.setTimer(timeoutMs, () => {
    if (core.ackHandlers.get(seqNo)?.timer !== timer) return;
    core.ackHandlers.delete(seqNo);
    handlers.onTimeout?.();
  });
  core.ackHandlers.set(seqNo, { onAck: handlers.onAck, onNack: handlers.onNack, timer });
}

/** An ack completes the wait: the handler runs once and is removed. */
export function invokeAckHandler(core: Core, seqNo: number): void {
  const handler = core.ackHandlers.get(seqNo);
  if (!handler) return;
  core.ackHandlers.delete(seqNo);
  core.clock.clearTimer(handler.timer);
  handler.onAck();
}

/** A nack only counts (several indirect probers may each send one). */
export function invokeNackHandler(core: Core, seqNo: number): void {
  core.ackHandlers.get(seqNo)?.onNack?.();
}

export function clearAckHandlers(core: Core): void {
  for (const handler of core.ackHandlers.values()) core.clock.clearTimer(handler.timer);
  core.ackHandlers.clear();
}

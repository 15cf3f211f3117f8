// Healing partitions: memberlist forgets dead members after gossipToTheDeadTime, so nothing would ever
// contact the other side again. Serf's reconnect does, and so do we: now and then, push-pull (as a join)
// with one member we declared dead, with probability failed / alive so a big failure does not cause a storm.
import type { Core } from './core.ts';
import { pushPullWith } from './push-pull-merge.ts';
import { isLive } from './messages.ts';

export function reconnectRound(core: Core): void {
  if (core.stopped || core.left) return;
  const now = core.clock.now();
  for (const [name, entry] of core.failed) {
    if (now - entry.since > core.config.reconnectTimeoutMs) core.failed.delete(name);
  }
  const numFailed = core.failed.size;
  if (numFailed === 0) return;
  let numAlive = 0;
  for (const n of core.table.nodes) if (isLive(n.state)) numAlive += 1;
  if (core.random() > numFailed / Math.max(numAlive, 1)) return;
  const names = [...core.failed.keys()];
  const name = names[Math.floor(core.random() * names.length)];
  const entry = core.failed.get(name);
  if (!entry) return;
  pushPullWith(core, entry.address, true).catch((err: Error) => {
    core.logger.debug(`membership: reconnect to ${name} failed: ${err.message}`);
  });
}

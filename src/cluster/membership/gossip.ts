// One gossip round (memberlist state.go gossip): pending broadcasts to a few random members, including
// recently dead ones so that a node wrongly declared dead hears it and refutes.
import { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, type Core } from './core.ts';
import { isLive } from './messages.ts';

export function gossipRound(core: Core): void {
  if (core.stopped || core.queue.length === 0) return;
  const now = core.clock.now();
  const { gossipToTheDeadTimeMs } = core.config;
  const targets = core.table.kRandom(core.config.gossipNodes, (n) => {
    if (n.name === core.name) return false;
    if (isLive(n.state)) return true;
    return n.state === 'dead' && now - n.stateChange <= gossipToTheDeadTimeMs;
  });
  const limit = core.transport.maxPacketBytes - COMPOUND_HEADER_OVERHEAD;
  for (const node of targets) {
    const messages = core.queue.take(COMPOUND_OVERHEAD, limit);
    if (messages.length === 0) return;
    core.transport.sendPackets(core.addressOf(node), messages);
  }
}

// Yield: an agent that ran on two nodes (a partition healed, a node restarted) keeps running on the one its
// registry record names, its keeper, and the copy here stops (the plan's 'yield') — but only once the keeper
// answers over agent.get that it runs the agent: the record is anyone's word while gossip is unencrypted, and
// stale after a crash, and stopping the copy here on a keeper that does not run it loses the agent. Apart
// because it is the one action of the plan that stops an agent here on a peer's word.
import type { FailoverContext } from './failover-context.ts';

/** Stops the copy of `name` here in favour of `keeper`, or keeps it and publishes it again; never throws. */
export async function yieldToKeeper(context: FailoverContext, name: string, keeper: string): Promise<void> {
  const o = context.options;
  try {
    const confirm = o.keeperRuns;
    if (confirm) {
      const runs = await confirm(keeper, name, Math.min(o.settings.checkIntervalMs, 1000)).catch(() => false);
      if (context.closed()) return;
      if (!runs) {
        // Stopping the copy here would lose the agent: it stays, and the registry names this node again.
        context.stats.reclaimed += 1;
        context.warn({ agent: name, registry: keeper }, 'failover: the registry places an agent running here on a node that does not say it runs it; keeping it here');
        o.republish(name);
        return;
      }
      if (o.registry.get(name)?.node !== keeper) return; // changed meanwhile: the next check decides
    }
    const record = o.registry.get(name);
    o.directory.upsert(name, keeper, record?.capabilities ?? []);
    o.registry.disown(name);
    await o.agents.relinquish(name);
    context.stats.yielded += 1;
    o.logger.warn({ agent: name, keeper }, 'agent ran on two nodes; its keeper has it and the copy here stopped');
  } catch (error) {
    o.logger.error({ agent: name, keeper, err: error }, 'failover: stopping the duplicate copy failed');
  }
}

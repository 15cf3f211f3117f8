// The deletion path of failover: an agent running here whose newest registry write is a deletion made while
// this node was away (it crashed, or was cut off: an unplaced agent of a dead node is deleted from any node)
// is deleted here too, once the node that wrote the deletion confirms it over registry.write; a deletion its
// writer refutes, or whose writer is no Caxton member, is undone by publishing the agent again, and one whose
// writer is a member not seen alive yet waits for it. Apart from the plan's actions (failover.ts) because it
// starts from the registry's change events, not from the plan, and keeps its own names still to settle.
import { isLive } from '../cluster/membership/messages.ts';
import type { FailoverContext } from './failover-context.ts';

export class MissedDeletions {
  readonly #c: FailoverContext;
  /**
   * Names whose newest registry write became a deletion since the last pass of settle, and names a pass
   * could not settle yet (busy here): at most one per registry record (registry.max_records). 'all' until
   * the first pass, which looks at every local agent.
   */
  #deletions: Set<string> | 'all' = 'all';

  constructor(context: FailoverContext) {
    this.#c = context;
  }

  /** The newest registry write of `name` became a deletion: looked at in the next pass. */
  noted(name: string): void {
    if (this.#deletions !== 'all') this.#deletions.add(name);
  }

  /**
   * An agent running here whose newest registry write is a deletion by another node was deleted while this
   * node was away (crashed, or cut off: an unplaced agent of a dead node is deleted from any node): it goes
   * here too. Only agents the directory holds as this node's, so a deploy still starting is never touched
   * (its record is published in the same turn the directory gets it). The names come from the registry's
   * change events, not from a pass over every local agent at each check: a deletion merged below this
   * node's Lamport time changes no clock, and a name busy here is looked at again at the next check.
   */
  settle(): void {
    const { options: o, busy } = this.#c;
    const { registry, directory } = o;
    const names = this.#deletions === 'all' ? o.localNames() : [...this.#deletions];
    this.#deletions = new Set();
    for (const name of names) {
      if (directory.nodeOf(name) !== o.nodeId || !registry.deleted(name)) continue;
      if (busy.has(name) || !o.runsHere(name)) {
        this.#deletions.add(name);
        continue;
      }
      const write = registry.writeOf(name);
      const confirm = o.confirmDeletion;
      if (!confirm || write === undefined || write.writer === o.nodeId) {
        busy.add(name);
        void this.#deleteHere(name).finally(() => busy.delete(name));
        continue;
      }
      const writer = o.members().find((m) => m.id === write.writer);
      if (writer === undefined || !writer.placeable) {
        this.#keepDeleted(name, write.writer, 'its writer is no Caxton member');
        continue;
      }
      if (!isLive(writer.state)) {
        // A member this node does not see alive yet (a partition healing: the deletion often arrives before
        // its writer's alive): asked once it is. The agent keeps running meanwhile, and is not published
        // again, which would undo a deletion its writer did make. A writer the membership forgets is refuted.
        this.#deletions.add(name);
        continue;
      }
      busy.add(name);
      void confirm(write.writer, name, write.lamport, Math.min(o.settings.checkIntervalMs, 1000))
        .catch(() => 'unknown' as const)
        .then((answer) => {
          if (this.#c.closed()) return;
          // Looked at again: the registry may have moved on while the writer was asked.
          const now = registry.writeOf(name);
          if (!registry.deleted(name) || now?.lamport !== write.lamport || now.writer !== write.writer) {
            if (this.#deletions !== 'all') this.#deletions.add(name);
            return;
          }
          if (answer === 'confirmed') return this.#deleteHere(name);
          if (answer === 'refuted') this.#keepDeleted(name, write.writer, 'its writer says it made no such deletion');
          else if (this.#deletions !== 'all') this.#deletions.add(name);
        })
        .finally(() => busy.delete(name));
    }
  }

  async #deleteHere(name: string): Promise<void> {
    this.#c.warn({ agent: name }, 'agent deleted in the cluster while this node was away; deleting it here');
    try {
      await this.#c.options.agents.delete(name);
    } catch (error) {
      this.#c.options.logger.error({ agent: name, err: (error as Error).message }, 'failover: deleting the agent here failed; retried at the next check');
      if (this.#deletions !== 'all') this.#deletions.add(name);
    }
  }

  /** A deletion of an agent running here that its writer does not confirm: the agent stays, and its record is written again. */
  #keepDeleted(name: string, writer: string, why: string): void {
    this.#c.stats.reclaimed += 1;
    this.#c.warn({ agent: name, writer }, `failover: the registry holds a deletion of an agent running here, but ${why}; keeping the agent and publishing it again`);
    this.#c.options.republish(name);
  }
}

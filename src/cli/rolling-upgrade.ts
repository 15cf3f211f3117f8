// `caxton cluster upgrade`: a rolling upgrade driven through the one node the CLI talks to, one node at a
// time, every step visible and every wait bounded (docs/operations.md "Rolling upgrade"):
//   1. drain the node (its agents move to the others, their mailboxes forwarded);
//   2. restart it: run --restart-command (with {node} replaced and CAXTON_UPGRADE_NODE / CAXTON_UPGRADE_API
//      set), or wait for the operator to restart it;
//   3. wait until it is back: listed alive with a new `started_at` (a new process), at --version when given,
//      and the cluster healthy again as the node we talk to sees it;
//   4. undrain it (placement may choose it again), then the next node.
// The node the CLI talks to goes last; while it restarts, the CLI waits for its API to answer again.
// Stops at the first failure, saying which node is left drained and how to undrain it.
import type { ClusterMemberView, ClusterStatusView, DrainReportView } from '../api/cluster-services.ts';
import { CliError } from './cli-error.ts';

export interface UpgradeOptions {
  /** Shell command that restarts one node; {node} is replaced with its id. Absent: the operator restarts it. */
  restartCommand?: string;
  /** The Caxton version each node must report after its restart. */
  version?: string;
  /** Only these nodes, in this order (default: every live Caxton member, the contacted node last). */
  nodes?: string[];
  /** Per node: how long to wait for it to come back healthy. */
  timeoutMs: number;
}

export interface UpgradePorts {
  request<T>(method: string, path: string): Promise<T>;
  /** Runs the restart command; resolves with its exit code. */
  run(command: string, env: Record<string, string>): Promise<number>;
  log(line: string): void;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface UpgradeStep {
  node: string;
  moved: number;
  forwarded: number;
  drain_ms: number;
  restart_ms: number;
  version: string;
}

const POLL_MS = 250;

export async function rollingUpgrade(options: UpgradeOptions, ports: UpgradePorts): Promise<UpgradeStep[]> {
  const self = (await ports.request<{ node: string }>('GET', '/health')).node;
  const members = await listMembers(ports);
  const live = members.filter((m) => m.state === 'alive' && m.version !== 'unknown').map((m) => m.id);
  let order: string[];
  if (options.nodes && options.nodes.length > 0) {
    const unknown = options.nodes.filter((n) => !live.includes(n));
    if (unknown.length > 0) throw new CliError(`not live Caxton members: ${unknown.join(', ')} (live: ${live.join(', ')})`);
    order = options.nodes;
  } else {
    order = [...live.filter((n) => n !== self).sort(), ...(live.includes(self) ? [self] : [])];
  }
  const steps: UpgradeStep[] = [];
  for (const node of order) steps.push(await upgradeOne(node, node === self, options, ports));
  return steps;
}

async function upgradeOne(node: string, isSelf: boolean, options: UpgradeOptions, ports: UpgradePorts): Promise<UpgradeStep> {
  const before = (await listMembers(ports)).find((m) => m.id === node);
  if (!before || before.state !== 'alive') throw new CliError(`node ${node} is not alive; nothing was changed on it`);
  const startedBefore = before.started_at;
  ports.log(`${node}: draining`);
  const drainStart = ports.now();
  const report = await ports.request<DrainReportView>('POST', isSelf ? '/api/v1/node/drain' : `/api/v1/cluster/members/${encodeURIComponent(node)}/drain`);
  const drainMs = ports.now() - drainStart;
  ports.log(`${node}: drained in ${drainMs} ms (${report.moved} agents moved, ${report.forwarded} queued messages forwarded${report.pinned.length ? `, ${report.pinned.length} pinned stay` : ''}${report.failed.length ? `, ${report.failed.length} could not move` : ''})`);
  const restartStart = ports.now();
  const stuck = `${node} is left drained: once it runs again, \`caxton node undrain --node ${node}\``;
  if (options.restartCommand !== undefined) {
    const command = options.restartCommand.replaceAll('{node}', node);
    ports.log(`${node}: restarting: ${command}`);
    const code = await ports.run(command, { CAXTON_UPGRADE_NODE: node, ...(before.api ? { CAXTON_UPGRADE_API: before.api } : {}) });
    if (code !== 0) throw new CliError(`the restart command for ${node} exited with ${code}; ${stuck}`);
  } else {
    ports.log(`${node}: restart it now (stop it, install the new version, start it with the same data dir); waiting up to ${Math.round(options.timeoutMs / 1000)} s`);
  }
  const deadline = ports.now() + options.timeoutMs;
  let back: ClusterMemberView | undefined;
  await waitFor(ports, deadline, `${node} to come back as a new process${options.version ? ` at version ${options.version}` : ''}; ${stuck}`, async () => {
    back = (await listMembers(ports)).find((m) => m.id === node);
    return back !== undefined && back.state === 'alive' && back.started_at !== undefined && back.started_at !== startedBefore && (options.version === undefined || back.version === options.version);
  });
  await waitFor(ports, deadline, `the cluster to be healthy again after ${node}'s restart; ${stuck}`, async () => {
    const status = await ports.request<ClusterStatusView>('GET', '/api/v1/cluster/status');
    return status.health === 'healthy';
  });
  await ports.request('POST', isSelf ? '/api/v1/node/undrain' : `/api/v1/cluster/members/${encodeURIComponent(node)}/undrain`);
  const restartMs = ports.now() - restartStart;
  ports.log(`${node}: back at version ${back!.version} after ${restartMs} ms, undrained`);
  return { node, moved: report.moved, forwarded: report.forwarded, drain_ms: drainMs, restart_ms: restartMs, version: back!.version };
}

async function listMembers(ports: UpgradePorts): Promise<ClusterMemberView[]> {
  return (await ports.request<{ members: ClusterMemberView[] }>('GET', '/api/v1/cluster/members')).members;
}

/** Polls `check` until true; errors (the node we talk to restarting) count as not yet. */
async function waitFor(ports: UpgradePorts, deadline: number, what: string, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not answering yet */
    }
    if (ports.now() > deadline) throw new CliError(`timed out waiting for ${what}`);
    await ports.sleep(POLL_MS);
  }
}

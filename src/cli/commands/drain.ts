// `caxton node drain|undrain`, `caxton cluster leave` and `caxton cluster upgrade`: taking nodes out of and
// back into placement, leaving for good, and the rolling upgrade built from them (docs/operations.md).
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import type { DrainReportView } from '../../api/cluster-services.ts';
import type { AnswerShape } from '../answer-shape.ts';
import { positiveInt, sessionFor, withExamples, type CliContext } from '../context.ts';
import { renderFields, renderTable, type Column } from '../output.ts';
import { rollingUpgrade, type UpgradeStep } from '../rolling-upgrade.ts';

/** A node restarts in seconds; ten minutes also covers a package install in the restart command. */
const DEFAULT_UPGRADE_TIMEOUT_MS = 600_000;

/** What drain and leave read of their report (checked: answer-shape.ts). */
const DRAIN_REPORT: AnswerShape = { node: 'string', moved: 'number', forwarded: 'number', undeliverable: 'number', pinned: 'strings', failed: 'list' };

function describeReport(report: DrainReportView, verb: string): string {
  const lines: Array<[string, unknown]> = [
    ['node', report.node],
    [verb, `${report.moved} agents moved to other nodes`],
    ['forwarded', `${report.forwarded} queued messages`],
    ['took', `${report.duration_ms} ms`],
  ];
  if (report.undeliverable > 0) lines.push(['undeliverable', `${report.undeliverable} messages (their senders got a failure)`]);
  if (report.pinned.length > 0) lines.push(['pinned', `${report.pinned.join(', ')} (pinned here: not moved)`]);
  for (const f of report.failed) lines.push(['not moved', `${f.agent}: ${f.error}`]);
  return renderFields(lines);
}

const STEP_COLUMNS: Column<UpgradeStep>[] = [
  { header: 'NODE', value: (s) => s.node },
  { header: 'MOVED', value: (s) => String(s.moved) },
  { header: 'FORWARDED', value: (s) => String(s.forwarded) },
  { header: 'DRAIN MS', value: (s) => String(s.drain_ms) },
  { header: 'RESTART MS', value: (s) => String(s.restart_ms) },
  { header: 'VERSION', value: (s) => s.version },
];

export function registerDrainCommands(program: Command, cluster: Command, context: CliContext): void {
  const node = program.command('node').description('this node (or, with --node, another member) in and out of placement');
  withExamples(node, 'caxton node drain', 'caxton node drain --node n2');

  const drain = node
    .command('drain')
    .description("hand this node's agents to their new owners (mailboxes forwarded, in order) and take no new ones; it stays a member")
    .option('--node <id>', 'drain that member instead, through the node you talk to')
    .action(async (options: { node?: string }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const path = options.node ? `/api/v1/cluster/members/${encodeURIComponent(options.node)}/drain` : '/api/v1/node/drain';
      const { body } = await client.request<DrainReportView>('POST', path, { body: {}, expect: DRAIN_REPORT });
      print.result(body, () => describeReport(body, 'drained'));
    });
  withExamples(drain, 'caxton node drain', 'caxton node drain --node n2 --output json');

  const undrain = node
    .command('undrain')
    .description('placement may choose the node again (agents moved away stay where they are)')
    .option('--node <id>', 'undrain that member instead')
    .action(async (options: { node?: string }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const path = options.node ? `/api/v1/cluster/members/${encodeURIComponent(options.node)}/undrain` : '/api/v1/node/undrain';
      const { body } = await client.request<{ node: string; draining: boolean }>('POST', path, { body: {}, expect: { node: 'string' } });
      print.result(body, () => `${body.node}: not draining\n`);
    });
  withExamples(undrain, 'caxton node undrain', 'caxton node undrain --node n2');

  const leave = cluster
    .command('leave')
    .description("graceful leave of the node you talk to: its agents move to their new owners, then it leaves (`left` everywhere) and stops")
    .action(async (_options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<DrainReportView>('POST', '/api/v1/cluster/leave', { body: {}, expect: DRAIN_REPORT });
      print.result(body, () => describeReport(body, 'left') + 'the node is leaving the cluster and stopping\n');
    });
  withExamples(leave, 'caxton cluster leave --server http://10.0.0.2:8080');

  const upgrade = cluster
    .command('upgrade')
    .description('rolling upgrade, one node at a time: drain, restart (--restart-command or you), wait until back and healthy, undrain')
    .option('--restart-command <cmd>', 'shell command restarting one node; {node} is its id (env CAXTON_UPGRADE_NODE, CAXTON_UPGRADE_API)')
    .option('--to-version <v>', 'each restarted node must report this Caxton version')
    .option('--nodes <ids>', 'only these nodes, in this order (comma-separated)')
    .option('--timeout <ms>', `per node, how long to wait for it to come back healthy (default ${DEFAULT_UPGRADE_TIMEOUT_MS})`, positiveInt)
    .action(async (options: { restartCommand?: string; toVersion?: string; nodes?: string; timeout?: number }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const steps = await rollingUpgrade(
        {
          restartCommand: options.restartCommand,
          version: options.toVersion,
          nodes: options.nodes?.split(',').map((s) => s.trim()).filter(Boolean),
          timeoutMs: options.timeout ?? DEFAULT_UPGRADE_TIMEOUT_MS,
        },
        {
          request: async <T>(method: string, path: string) => (await client.request<T>(method, path, method === 'POST' ? { body: {} } : {})).body,
          run: (cmd, env) => runShell(cmd, env),
          // Progress goes to stderr, so --output json stays one document on stdout.
          log: (line) => context.io.err(`upgrade: ${line}\n`),
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          now: () => Date.now(),
        },
      );
      print.result({ upgraded: steps }, () => renderTable(STEP_COLUMNS, steps));
    });
  withExamples(
    upgrade,
    "caxton cluster upgrade --restart-command 'ssh {node} sudo systemctl restart caxton'",
    'caxton cluster upgrade --to-version 0.2.0   # you restart each node when told',
  );
}

function runShell(command: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 2, 2] });
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

// `caxton cluster status|members|performance`: the cluster as the node we talk to sees it.
import type { Command } from 'commander';
import type { ClusterMemberView, ClusterStatusView, NodePerformance, PerformanceFigure } from '../../api/cluster-services.ts';
import { listOf, type AnswerShape } from '../answer-shape.ts';
import { CliError, UnreachableError } from '../cli-error.ts';
import { positiveInt, sessionFor, withExamples, type CliContext } from '../context.ts';
import { Progress } from '../progress.ts';
import { printable, renderFields, renderTable, type Column } from '../output.ts';
import { registerDrainCommands } from './drain.ts';
import { registerSecurityCommands } from './security.ts';

const MEMBER_COLUMNS: Column<ClusterMemberView>[] = [
  { header: 'ID', value: (m) => m.id },
  { header: 'ADDRESS', value: (m) => m.address },
  { header: 'STATE', value: (m) => m.state },
  { header: 'AGENTS', value: (m) => String(m.agents) },
  { header: 'VERSION', value: (m) => m.version },
];
/** Shown only while some member drains, so the usual table stays as interfaces.md lists it. */
const DRAINING_COLUMN: Column<ClusterMemberView> = { header: 'DRAINING', value: (m) => (m.draining ? 'yes' : '-') };

/** What the member commands read of GET /api/v1/cluster/members (checked: answer-shape.ts). */
export const MEMBERS: AnswerShape = { members: 'list' };

const FIGURE_COLUMNS: Column<PerformanceFigure>[] = [
  { header: 'FIGURE', value: (f) => f.name },
  { header: 'VALUE', value: (f) => (f.value === null ? 'n/a' : `${f.value} ${f.unit}`) },
  { header: 'TARGET', value: (f) => f.target },
];

const NODE_FIGURE_COLUMNS: Column<{ node: string; figure: PerformanceFigure }>[] = [
  { header: 'NODE', value: (r) => r.node },
  ...FIGURE_COLUMNS.map((c) => ({ header: c.header, value: (r: { figure: PerformanceFigure }) => c.value(r.figure) })),
];

/**
 * Under the table, how each figure shown `n/a` is measured (once per name): on a quiet node a sampled figure has
 * nothing yet, and the table alone does not say why.
 */
function unmeasuredNotes(figures: PerformanceFigure[]): string {
  const notes = new Map<string, string>();
  for (const f of figures) if (f.value === null && f.note && !notes.has(f.name)) notes.set(f.name, f.note);
  if (notes.size === 0) return '';
  const width = Math.max(...[...notes.keys()].map((name) => name.length));
  return `\nn/a: nothing measured yet. How those are measured:\n${[...notes].map(([name, note]) => `  ${name.padEnd(width)}  ${note}\n`).join('')}`;
}

export function registerClusterCommands(program: Command, context: CliContext): void {
  // Gossip keys are the cluster layer's: registered with it (program.ts lists one register call per area).
  registerSecurityCommands(program, context);
  const cluster = program.command('cluster').description('the cluster as the node you talk to sees it');
  withExamples(cluster, 'caxton cluster status');

  const status = cluster
    .command('status')
    .description('health (healthy/degraded), mode (read-write/read-only), alive/expected nodes, quorum')
    .action(async (_options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<ClusterStatusView>('GET', '/api/v1/cluster/status', {
        expect: { health: 'string', mode: 'string', alive: 'number', expected: 'number', quorum: 'number', agents: 'number?' },
      });
      print.result(body, () =>
        renderFields([
          ['health', body.health],
          ['mode', body.mode],
          ['alive', `${body.alive} of ${body.expected} expected`],
          ['quorum', String(body.quorum)],
          ...(body.agents === undefined ? [] : [['agents', String(body.agents)] as [string, string]]),
        ]),
      );
    });
  withExamples(status, 'caxton cluster status', 'caxton cluster status --output json');

  const members = cluster
    .command('members')
    .description('one row per node: id, address, state (alive/suspect/dead/left), agents, version')
    .action(async (_options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<{ members: ClusterMemberView[] }>('GET', '/api/v1/cluster/members', { expect: MEMBERS });
      const columns = body.members.some((m) => m.draining) ? [...MEMBER_COLUMNS, DRAINING_COLUMN] : MEMBER_COLUMNS;
      print.result(body, () => renderTable(columns, body.members));
    });
  withExamples(members, 'caxton cluster members');

  const token = cluster
    .command('token')
    .description('print a join token (one line) for `server start --join ADDR --token T`; ask a node holding the cluster CA')
    .action(async (_options: unknown, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const { body } = await client.request<{ token: string }>('POST', '/api/v1/cluster/token', { body: {}, expect: { token: 'string' } });
      print.result(body, () => `${body.token}\n`);
    });
  withExamples(token, 'caxton server start --join 10.0.0.1:7946 --token "$(caxton cluster token --server http://10.0.0.1:8080)"');

  const wait = cluster
    .command('wait')
    .description('wait until the cluster has N alive members, showing progress (for scripts and first starts)')
    .requiredOption('--nodes <n>', 'alive members to wait for', positiveInt)
    .option('--timeout <seconds>', 'give up after this long (default 60)', positiveInt)
    .action(async (options: { nodes: number; timeout?: number }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      const progress = new Progress('always');
      const started = Date.now();
      const deadline = started + (options.timeout ?? 60) * 1000;
      let alive: ClusterMemberView[] = [];
      try {
        for (;;) {
          try {
            alive = (await client.request<{ members: ClusterMemberView[] }>('GET', '/api/v1/cluster/members', { expect: MEMBERS })).body.members.filter((m) => m.state === 'alive');
          } catch (error) {
            // Not reachable yet: keep waiting. Any answer (an error, TLS refused, another shape) will not change by waiting.
            if (!(error instanceof UnreachableError)) throw error;
          }
          const seconds = Math.round((Date.now() - started) / 1000);
          progress.update(`waiting for ${options.nodes} alive nodes: ${alive.length} alive${alive.length ? ` (${printable(alive.map((m) => m.id).join(', '))})` : ''}, ${seconds} s`);
          if (alive.length >= options.nodes) break;
          if (Date.now() > deadline) {
            throw new CliError(`the cluster has ${alive.length} alive of the ${options.nodes} nodes waited for after ${options.timeout ?? 60} s`);
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      } finally {
        progress.done();
      }
      print.result({ alive: alive.length, members: alive }, () => `${alive.length} nodes alive: ${printable(alive.map((m) => m.id).join(', '))}\n`);
    });
  withExamples(wait, 'caxton cluster wait --nodes 3', 'caxton cluster wait --nodes 5 --timeout 120');

  const performance = cluster
    .command('performance')
    .description('the live figures next to their targets (routing latency, throughput, agent start-up, convergence)')
    .option('--all', 'every live node of the cluster, each measured by itself')
    .action(async (options: { all?: boolean }, command: Command) => {
      const { client, print } = await sessionFor(command, context);
      if (!options.all) {
        const { body } = await client.request<{ figures: PerformanceFigure[] }>('GET', '/api/v1/cluster/performance', { expect: { figures: 'list' } });
        print.result(body, () => renderTable(FIGURE_COLUMNS, body.figures) + unmeasuredNotes(body.figures));
        return;
      }
      const { body } = await client.request<{ nodes: NodePerformance[] }>('GET', '/api/v1/cluster/performance?all=true', { expect: { nodes: 'list' } });
      const rows = body.nodes.flatMap((n) =>
        n.error !== undefined ? [{ node: n.node, figure: { name: '(no answer)', value: null, unit: '', target: n.error } }] : listOf(n.figures).map((figure) => ({ node: n.node, figure })),
      );
      print.result(body, () => renderTable(NODE_FIGURE_COLUMNS, rows) + unmeasuredNotes(rows.map((r) => r.figure)));
    });

  // Drain, leave and rolling upgrade ride with the cluster commands (one register call per area in program.ts).
  registerDrainCommands(program, cluster, context);
  withExamples(performance, 'caxton cluster performance', 'caxton cluster performance --all');
}

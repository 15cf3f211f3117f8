// `caxton server start`: parse the flags, then hand them to the node. The node is imported only here,
// and lazily, so that `caxton --help` and every client command stay fast.
import { type Command, Option } from 'commander';
import { CliError } from '../cli-error.ts';
import { withExamples, type CliContext, type RunServer } from '../context.ts';
import { DEFAULT_CLUSTER_NAME } from '../../config/flags.ts';

const RUN_SERVER_MODULE = new URL('../../node/run-server.ts', import.meta.url).href;

export async function loadRunServer(): Promise<RunServer> {
  let loaded: { runServer?: unknown };
  try {
    // A computed specifier keeps type-checking and bundling from requiring the node when only the CLI is built.
    loaded = (await import(RUN_SERVER_MODULE)) as { runServer?: unknown };
  } catch (error) {
    throw new CliError(`cannot load the node (${RUN_SERVER_MODULE}): ${(error as Error).message}`);
  }
  if (typeof loaded.runServer !== 'function') throw new CliError('the node module exports no runServer function');
  return loaded.runServer as RunServer;
}

/** The flag keys runServer receives; only the flags given on the command line are present. */
const SERVER_FLAGS = [
  'bootstrap',
  'bootstrapExpect',
  'advertiseAddr',
  'join',
  'cluster',
  'nodeId',
  'bindAddr',
  'apiAddr',
  'dataDir',
  'encrypt',
  'token',
  'tlsDir',
  'config',
  'insecureNoAuth',
  'logLevel',
] as const;

export function registerServerCommands(program: Command, context: CliContext): void {
  const server = program.command('server').description('run a Caxton node');
  withExamples(server, 'caxton server start --bootstrap');
  const start = server
    .command('start')
    .description('run a node in the foreground; --join joins an existing cluster, --cluster finds one on the local network (--data-dir sets where it keeps its data)')
    .option('--bootstrap', 'start a new cluster with this node as its first member')
    .option('--bootstrap-expect <n>', 'expected cluster size, for the quorum (default: the most members seen alive)')
    .option('--join <host:port[,host:port...]>', 'gossip address(es) of existing members to join; a DNS name joins every address it resolves to')
    .addOption(
      new Option('--cluster [name]', 'find and join the members of cluster NAME on the local network by mDNS, as `serf agent -discover`').preset(DEFAULT_CLUSTER_NAME),
    )
    .option('--advertise-addr <host:port>', 'gossip address told to peers (default: the bind address)')
    .option('--node-id <id>', 'this node\'s id (default: the host name)')
    .option('--bind-addr <host:port>', 'gossip address (default: 127.0.0.1:7946)')
    .option('--api-addr <host:port>', 'REST API address (default: 127.0.0.1:8080)')
    .option('--encrypt <key>', 'base64 gossip key of 16, 24 or 32 bytes, as `serf agent -encrypt`')
    .option('--token <token>', 'join token from `caxton cluster token`: with --join, gets this node\'s routing certificate')
    .option('--tls-dir <dir>', 'routing TLS material of your own PKI: ca.pem, node.pem, node.key (default: <data-dir>/tls)')
    .option('--config <file>', 'caxton.yaml to read (flags win over env, env over the file)')
    .option('--insecure-no-auth', 'no authentication, for local development (refused unless the API binds to loopback)')
    .addOption(
      new Option('--log-level <level>', 'log verbosity').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    )
    .action(async (_options: unknown, command: Command) => {
      const all = command.optsWithGlobals<Record<string, unknown>>();
      const flags: Record<string, unknown> = {};
      for (const key of SERVER_FLAGS) if (all[key] !== undefined) flags[key] = all[key];
      const runServer = await context.loadRunServer();
      await runServer(flags);
    });
  withExamples(
    start,
    'caxton server start',
    'caxton server start --bootstrap --node-id n1 --api-addr 0.0.0.0:8080',
    'caxton server start --cluster prod --bind-addr 10.0.0.5:7946',
    'caxton server start --join caxton-headless.default.svc.cluster.local',
    'caxton server start --join 10.0.0.1:7946 --token "$TOKEN" --data-dir /var/lib/caxton',
  );
}

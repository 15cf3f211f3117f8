// The flags of `caxton server start` (interfaces.md) and the configuration key each one sets. The CLI declares
// its options from this table and hands commander's parsed options to loadConfig unchanged.

/** The cluster name `--cluster` without a name discovers (the seed's `caxton server start --cluster`). */
export const DEFAULT_CLUSTER_NAME = 'caxton';

export interface ServerFlag {
  /** As commander declares it. */
  flags: string;
  /** The property commander puts the value in (camelCase of the long flag). */
  option: string;
  /** The caxton.yaml key it overrides; null for --config, which names the file rather than a key. */
  key: string | null;
  description: string;
}

export const SERVER_START_FLAGS: readonly ServerFlag[] = [
  { flags: '--bootstrap', option: 'bootstrap', key: 'cluster.bootstrap', description: 'start a new cluster' },
  {
    flags: '--bootstrap-expect <N>',
    option: 'bootstrapExpect',
    key: 'cluster.bootstrap_expect',
    description: 'expected cluster size, for the quorum',
  },
  {
    flags: '--join <HOST:PORT[,HOST:PORT...]>',
    option: 'join',
    key: 'cluster.join',
    description: 'join an existing cluster through these members',
  },
  {
    flags: '--cluster [NAME]',
    option: 'cluster',
    key: 'cluster.discover',
    description: 'find and join the members of cluster NAME (default caxton) on the local network by mDNS',
  },
  { flags: '--node-id <ID>', option: 'nodeId', key: 'node.id', description: 'node id (default: host name)' },
  {
    flags: '--bind-addr <HOST:PORT>',
    option: 'bindAddr',
    key: 'cluster.bind_addr',
    description: 'gossip address (default 127.0.0.1:7946)',
  },
  {
    flags: '--advertise-addr <HOST:PORT>',
    option: 'advertiseAddr',
    key: 'cluster.advertise_addr',
    description: 'gossip address told to peers (default: bind address)',
  },
  { flags: '--api-addr <HOST:PORT>', option: 'apiAddr', key: 'api.addr', description: 'REST API address (default 127.0.0.1:8080)' },
  { flags: '--data-dir <DIR>', option: 'dataDir', key: 'node.data_dir', description: 'state directory (default ./.caxton)' },
  {
    flags: '--encrypt <KEY>',
    option: 'encrypt',
    key: 'cluster.encrypt',
    description: 'base64 gossip encryption key of 16, 24 or 32 bytes',
  },
  {
    flags: '--token <TOKEN>',
    option: 'token',
    key: 'cluster.token',
    description: 'join token from `caxton cluster token`: with --join, get this node\'s routing certificate',
  },
  {
    flags: '--tls-dir <DIR>',
    option: 'tlsDir',
    key: 'routing.tls_dir',
    description: 'routing TLS material (ca.pem, node.pem, node.key) of your own PKI (default: <data-dir>/tls)',
  },
  { flags: '--config <FILE>', option: 'config', key: null, description: 'caxton.yaml to read' },
  {
    flags: '--insecure-no-auth',
    option: 'insecureNoAuth',
    key: 'auth.insecure_no_auth',
    description: 'no authentication (refused unless the API binds to loopback)',
  },
  { flags: '--log-level <LEVEL>', option: 'logLevel', key: 'log.level', description: 'trace, debug, info, warn, error, fatal or silent' },
];

/** Commander option name → configuration key. */
export const FLAG_TO_KEY: ReadonlyMap<string, string> = new Map(
  SERVER_START_FLAGS.filter((f) => f.key !== null).map((f) => [f.option, f.key as string]),
);

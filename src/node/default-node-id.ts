// The id of a new data dir when no --node-id is given.
import { hostname } from 'node:os';
import type { Config } from '../config/config.ts';
import { DEFAULT_GOSSIP_PORT } from '../config/defaults.ts';
import { parseHostPort } from '../config/host-port.ts';

/**
 * The host name (interfaces.md), with the gossip port added when it is not the default one, so nodes started
 * on one host with only distinct ports and data dirs do not all claim the same name (gossip would refuse the
 * second as a conflict).
 */
export function defaultNodeId(config: Config): string {
  const port = parseHostPort(config.cluster.bind_addr)?.port;
  return port === undefined || port === DEFAULT_GOSSIP_PORT ? hostname() : `${hostname()}-${port}`;
}

// The address this node tells its peers to reach it at. memberlist and Serf put an IP (4 or 16 bytes) in
// every alive, and Caxton peers refuse anything else: bytes that are not an IP would be a name the receiver
// resolves on the sender's say-so. So a name in cluster.advertise_addr is resolved once, at start.
import { ipOf, type Lookup } from '../config/host-address.ts';
import type { HostPort } from '../config/host-port.ts';
import { parseHostPort } from '../config/host-port.ts';
import { CaxtonError } from '../errors.ts';

/** cluster.advertise_addr as an IP and port; a host name is resolved (its first address). */
export async function advertiseAddressOf(text: string, resolve?: Lookup): Promise<HostPort> {
  const parsed = parseHostPort(text);
  if (!parsed) throw new CaxtonError('INVALID_ARGUMENT', `cluster.advertise_addr: expected HOST:PORT, got '${text}'`, { field: 'cluster.advertise_addr' });
  return { host: await ipOf(parsed.host, 'cluster.advertise_addr', resolve, '; peers need an IP'), port: parsed.port };
}

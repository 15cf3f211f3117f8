// The address the API listens on. Node's listen() binds a host name's first address; Fastify alone binds
// every address of `localhost` (127.0.0.1 and ::1), each extra one on a second http.Server of its own that
// the node never sees: no api.max_connections, no connection accounting, no TLS reload there. So a name is
// resolved here, once, to its first address, and the API has exactly one server.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { CaxtonError } from '../errors.ts';

type Lookup = (host: string) => Promise<{ address: string }>;

/** `host` of api.addr as the one IP the API binds. */
export async function listenHostOf(host: string, resolve: Lookup = (name) => lookup(name)): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await resolve(host)).address;
  } catch (error) {
    throw new CaxtonError('INVALID_ARGUMENT', `api.addr: cannot resolve '${host}' (${(error as Error).message})`, { field: 'api.addr' });
  }
}

// The address the API listens on. Node's listen() binds a host name's first address; Fastify alone binds
// every address of `localhost` (127.0.0.1 and ::1), each extra one on a second http.Server of its own that
// the node never sees: no api.max_connections, no connection accounting, no TLS reload there. So a name is
// resolved here, once, to its first address, and the API has exactly one server.
import { ipOf, type Lookup } from '../config/host-address.ts';

/** `host` of api.addr as the one IP the API binds. */
export function listenHostOf(host: string, resolve?: Lookup): Promise<string> {
  return ipOf(host, 'api.addr', resolve);
}

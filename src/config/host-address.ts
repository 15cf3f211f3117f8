// A setting's host as one IP: kept when it is an IP already, else looked up once (its first address). Used where
// a name must not stay a name: the address peers are told (they refuse names) and the address the API binds
// (one server, so that every API bound reaches it).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { CaxtonError } from '../errors.ts';

export type Lookup = (host: string) => Promise<{ address: string }>;

/** `host` of setting `field` as an IP; a name that does not resolve is INVALID_ARGUMENT naming `field`. */
export async function ipOf(host: string, field: string, resolve: Lookup = (name) => lookup(name), why = ''): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await resolve(host)).address;
  } catch (error) {
    throw new CaxtonError('INVALID_ARGUMENT', `${field}: cannot resolve '${host}' (${(error as Error).message})${why}`, { field });
  }
}

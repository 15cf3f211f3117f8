// The addresses a `--join` list stands for: an IP literal is itself; a DNS name is every address it resolves
// to now, IPv4 and IPv6 (a Kubernetes headless service or a cloud DNS record lists each member), so the
// list is resolved again on every attempt and a member that came or went since the last one counts.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { CaxtonError } from '../errors.ts';
import type { PeerAddress } from './membership/transport.ts';

/** What dns.promises.lookup(host, { all: true }) returns; injected so tests decide the answers. */
export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

/** The system resolver (/etc/hosts, then DNS), both families, in the order it answered. */
export const systemLookupAll: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

/**
 * Addresses joined from one attempt: a DNS answer is not ours to trust with unbounded work, and each address
 * costs a TCP push-pull of up to gossip.tcp_timeout_ms. 64 is far above any seed list an operator writes.
 */
export const MAX_JOIN_ADDRESSES = 64;

export interface ResolvedJoin {
  addresses: PeerAddress[];
  /** Names that did not resolve, with the reason, so a failed attempt says why. */
  unresolved: string[];
}

/** Each entry's addresses in order, duplicates removed, at most MAX_JOIN_ADDRESSES. */
export async function resolveJoinAddresses(entries: readonly PeerAddress[], lookup: LookupAll): Promise<ResolvedJoin> {
  const answers = await Promise.all(
    entries.map(async (entry): Promise<PeerAddress[] | string> => {
      if (isIP(entry.host) !== 0) return [entry];
      try {
        const found = await lookup(entry.host);
        if (found.length === 0) return `${entry.host}: no address`;
        return found.map((a) => ({ host: a.address, port: entry.port }));
      } catch (error) {
        return `${entry.host}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      }
    }),
  );
  const seen = new Set<string>();
  const addresses: PeerAddress[] = [];
  const unresolved: string[] = [];
  for (const answer of answers) {
    if (typeof answer === 'string') {
      unresolved.push(answer);
      continue;
    }
    for (const address of answer) {
      const key = `${address.host}|${address.port}`;
      if (seen.has(key) || addresses.length >= MAX_JOIN_ADDRESSES) continue;
      seen.add(key);
      addresses.push(address);
    }
  }
  return { addresses, unresolved };
}

/**
 * What one join attempt contacts: every address of every entry except this node's own gossip address (a
 * headless service lists the asking pod too, and answering ourselves is not joining a cluster). Rejects
 * when nothing is left, so the attempt counts as failed and is retried.
 */
export async function addressesToJoin(entries: readonly PeerAddress[], lookup: LookupAll, self: PeerAddress): Promise<PeerAddress[]> {
  const { addresses, unresolved } = await resolveJoinAddresses(entries, lookup);
  const others = addresses.filter((a) => !(a.port === self.port && a.host === self.host));
  if (others.length === 0) {
    const why = unresolved.length > 0 ? unresolved.join('; ') : 'only this node\'s own address';
    throw new CaxtonError('UNAVAILABLE', `no address to join (${why})`);
  }
  return others;
}

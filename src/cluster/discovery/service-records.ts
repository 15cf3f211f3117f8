// The DNS-SD records of a cluster on mDNS, in Serf's naming (`serf agent -discover NAME`): the service
// `_serf_<NAME>._tcp.local`, one instance per node whose SRV record gives the gossip port and whose A or
// AAAA record gives the gossip address. What we advertise, whether a query asks for it, and which gossip
// addresses an answer names. Pure: packets come in as dns-packet decoded them, from anyone on the link,
// so every field is checked before use and nothing here throws on what a peer sent.
import { isIP } from 'node:net';
import type { Answer } from 'dns-packet';
import type { PeerAddress } from '../membership/transport.ts';

/** Records of an answer read at most (answers, then additionals): a real answer carries four per node. */
export const MAX_RECORDS_READ = 64;
/** Questions of a query looked at: real queries ask one to three. */
export const MAX_QUESTIONS_READ = 16;
/** What hashicorp/mdns (Serf) uses; RFC 6762 §10 recommends 120 s for records naming a host. */
export const RECORD_TTL_SECONDS = 120;
/** RFC 6762 §6.7: answers to a legacy unicast query (source port not 5353) carry a TTL of at most 10 s. */
export const LEGACY_UNICAST_TTL_SECONDS = 10;

export interface Advertisement {
  /** The cluster name (`--cluster NAME`). */
  cluster: string;
  /** This node's id, made into a DNS label. */
  node: string;
  /** The gossip address peers join. */
  gossip: PeerAddress;
  /** Free text in the TXT record (hashicorp/mdns, hence Serf, only takes an instance with a TXT record). */
  info: string;
}

export function serviceName(cluster: string): string {
  return `_serf_${cluster}._tcp.local`;
}

/** A node id as one DNS label (≤ 63 bytes of letters, digits, `-` and `_`). */
export function instanceLabel(node: string): string {
  const label = node.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 63);
  return label === '' ? 'caxton' : label;
}

export function instanceName(ad: Pick<Advertisement, 'cluster' | 'node'>): string {
  return `${instanceLabel(ad.node)}.${serviceName(ad.cluster)}`;
}

/** The SRV target: a host name of this node's own, so its A record cannot be confused with another's. */
export function hostName(ad: Pick<Advertisement, 'node'>): string {
  return `${instanceLabel(ad.node)}.local`;
}

/**
 * This node's records, in the order hashicorp/mdns reads them from the answer section (PTR, SRV, TXT, then
 * the address): all four go in the answers, since that client looks at no other section.
 */
export function advertisedRecords(ad: Advertisement, ttl = RECORD_TTL_SECONDS): Answer[] {
  const instance = instanceName(ad);
  const host = hostName(ad);
  const family = isIP(ad.gossip.host);
  const records: Answer[] = [
    { name: serviceName(ad.cluster), type: 'PTR', ttl, data: instance },
    { name: instance, type: 'SRV', ttl, data: { priority: 0, weight: 0, port: ad.gossip.port, target: host } },
    { name: instance, type: 'TXT', ttl, data: [ad.info] },
  ];
  if (family === 4) records.push({ name: host, type: 'A', ttl, data: ad.gossip.host });
  if (family === 6) records.push({ name: host, type: 'AAAA', ttl, data: ad.gossip.host });
  return records;
}

/**
 * Whether a query asks for something of ours: the service (PTR or ANY, what Serf's and our queries ask),
 * our instance (hashicorp/mdns follows up an incomplete answer with a PTR query for the instance), or our
 * host name. DNS names compare case-insensitively.
 */
export function asksForUs(query: unknown, ad: Advertisement): boolean {
  const questions = arrayField(query, 'questions');
  const service = serviceName(ad.cluster).toLowerCase();
  const instance = instanceName(ad).toLowerCase();
  const host = hostName(ad).toLowerCase();
  for (const question of questions.slice(0, MAX_QUESTIONS_READ)) {
    const name = lowerName(question);
    const type = stringField(question, 'type');
    if (name === undefined || type === undefined) continue;
    if (name === service && (type === 'PTR' || type === 'ANY')) return true;
    if (name === instance && ['PTR', 'SRV', 'TXT', 'ANY'].includes(type)) return true;
    if (name === host && ['A', 'AAAA', 'ANY'].includes(type)) return true;
  }
  return false;
}

/**
 * The gossip addresses an mDNS answer names for this cluster: each SRV record of an instance of the
 * service (with or without the PTR record, so announcements count too) joined with the A/AAAA records of
 * its target in the same packet. Records with TTL 0 are goodbyes and name no one. At most `limit`.
 */
export function peersInAnswer(packet: unknown, cluster: string, limit: number): PeerAddress[] {
  const records = [...arrayField(packet, 'answers'), ...arrayField(packet, 'additionals')].slice(0, MAX_RECORDS_READ);
  const suffix = `.${serviceName(cluster).toLowerCase()}`;
  const addressesOf = new Map<string, string[]>();
  for (const record of records) {
    const type = stringField(record, 'type');
    if (type !== 'A' && type !== 'AAAA') continue;
    const name = lowerName(record);
    const data = stringField(record, 'data');
    if (name === undefined || data === undefined || isIP(data) !== (type === 'A' ? 4 : 6) || isGoodbye(record)) continue;
    const list = addressesOf.get(name) ?? [];
    if (!list.includes(data)) list.push(data);
    addressesOf.set(name, list);
  }
  const peers: PeerAddress[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    if (stringField(record, 'type') !== 'SRV' || isGoodbye(record)) continue;
    const name = lowerName(record);
    if (name === undefined || !name.endsWith(suffix) || name.length === suffix.length) continue;
    const data = (record as { data?: unknown }).data;
    const port = numberField(data, 'port');
    const target = lowerName(data, 'target');
    if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535 || target === undefined) continue;
    for (const host of addressesOf.get(target) ?? []) {
      const key = `${host}|${port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      peers.push({ host, port });
      if (peers.length >= limit) return peers;
    }
  }
  return peers;
}

function isGoodbye(record: unknown): boolean {
  return numberField(record, 'ttl') === 0;
}

function arrayField(value: unknown, key: string): unknown[] {
  if (typeof value !== 'object' || value === null) return [];
  const field = (value as Record<string, unknown>)[key];
  return Array.isArray(field) ? field : [];
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

function numberField(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'number' ? field : undefined;
}

/** A DNS name, lower-cased and without a trailing dot (dns-packet strips it; hand-made packets may not). */
function lowerName(value: unknown, key = 'name'): string | undefined {
  const name = stringField(value, key);
  if (name === undefined || name.length > 255) return undefined;
  return name.toLowerCase().replace(/\.$/, '');
}

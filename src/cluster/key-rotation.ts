// Gossip-key rotation across the cluster without downtime, as `serf keys`: install the new key everywhere
// (every node now decrypts with it), make it primary everywhere (nodes start encrypting with it; those not
// yet switched are still understood), then remove the old one. The node an operator talks to applies the
// operation itself, sends it to every other live Caxton member as an encrypted user stream, and counts the
// answers each member sends back the same way. Only holders of a current key can send or read either.
import { randomUUID } from 'node:crypto';
import { CaxtonError } from '../errors.ts';
import { decodePayload, encodePayload, PayloadKind } from './caxton-payload.ts';
import { keyToBase64, type KeyringStore } from './keyring-store.ts';
import type { Member } from './membership/member.ts';
import type { PeerAddress } from './membership/transport.ts';
import type { Keyring } from './wire/keyring.ts';

export type KeyOp = 'install' | 'use' | 'remove' | 'list';
const OPS: readonly KeyOp[] = ['install', 'use', 'remove', 'list'];

/** One key and on how many of the answering members it is installed / primary (`serf keys -list`). */
export interface KeyCount {
  key: string;
  installed: number;
  primary: number;
}

/** What an operation did across the cluster. */
export interface KeyOpReport {
  op: KeyOp;
  /** Live Caxton members asked, this node included. */
  members: number;
  /** Members that applied the operation (this node included). */
  applied: number;
  failed: { node: string; error: string }[];
  /** Live members that are not Caxton nodes (e.g. Serf agents): they keep their own keyring. */
  skipped: string[];
  /** For `list`: every key seen, primary keys first. */
  keys?: KeyCount[];
}

interface KeyRequest {
  id: string;
  from: string;
  op: KeyOp;
  key?: string;
}

interface KeyResult {
  id: string;
  node: string;
  error?: string;
  /** The member's keys after the operation, primary first. */
  keys: string[];
}

export interface KeyRotationPorts {
  nodeName: string;
  keyring: Keyring;
  store: KeyringStore;
  /** Live members (self included), with their tags decoded. */
  liveMembers(): { member: Member; caxton: boolean }[];
  addressOf(node: string): PeerAddress | undefined;
  sendStream(to: PeerAddress, payload: Uint8Array): Promise<void>;
  /** How long to wait for the members' answers. */
  answerTimeoutMs: number;
  log: (message: string) => void;
}

export class KeyRotation {
  private readonly pending = new Map<string, { results: Map<string, KeyResult>; expected: Set<string>; done: () => void }>();

  constructor(private readonly ports: KeyRotationPorts) {}

  /** Applies `op` here and on every live Caxton member; resolves with who applied it. */
  async run(op: KeyOp, keyBase64?: string): Promise<KeyOpReport> {
    if (!OPS.includes(op)) throw new CaxtonError('INVALID_ARGUMENT', `op: expected one of ${OPS.join(', ')}`, { field: 'op' });
    if (op !== 'list') decodeKey(keyBase64);
    const { ports } = this;
    const request: KeyRequest = { id: randomUUID(), from: ports.nodeName, op, ...(op === 'list' ? {} : { key: keyBase64 }) };
    // Locally first: a mistake (removing the primary, using an unknown key) stops before it spreads.
    const local = this.apply(request);
    if (local.error) throw new CaxtonError('CONFLICT', local.error, { op });

    const live = ports.liveMembers().filter(({ member }) => member.name !== ports.nodeName);
    const targets = live.filter((m) => m.caxton).map((m) => m.member.name);
    const skipped = live.filter((m) => !m.caxton).map((m) => m.member.name);
    const results = new Map<string, KeyResult>([[ports.nodeName, local]]);
    const failed: { node: string; error: string }[] = [];

    if (targets.length > 0) {
      const expected = new Set(targets);
      const allAnswered = new Promise<void>((resolve) => {
        this.pending.set(request.id, { results, expected, done: resolve });
      });
      const payload = encodePayload(PayloadKind.keyRequest, request);
      await Promise.all(
        targets.map(async (node) => {
          const to = ports.addressOf(node);
          try {
            if (!to) throw new Error('address unknown');
            await ports.sendStream(to, payload);
          } catch (error) {
            expected.delete(node);
            failed.push({ node, error: `not reached: ${(error as Error).message}` });
          }
        }),
      );
      if (expected.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([allAnswered, new Promise<void>((r) => (timer = setTimeout(r, ports.answerTimeoutMs)))]);
        clearTimeout(timer);
      }
      this.pending.delete(request.id);
      for (const node of expected) if (!results.has(node)) failed.push({ node, error: 'no answer in time' });
    }

    let applied = 0;
    for (const [node, r] of results) {
      if (r.error) failed.push({ node, error: r.error });
      else applied += 1;
    }
    const report: KeyOpReport = { op, members: targets.length + 1, applied, failed, skipped };
    if (op === 'list') report.keys = countKeys([...results.values()].filter((r) => !r.error));
    return report;
  }

  /** A Caxton user payload (gossip or stream): answers requests, collects results. False when not ours. */
  handle(payload: Uint8Array): boolean {
    const decoded = decodePayload(payload);
    if (!decoded) return false;
    if (decoded.kind === PayloadKind.keyRequest) {
      const request = decoded.body as KeyRequest;
      if (typeof request?.id !== 'string' || typeof request.from !== 'string' || !OPS.includes(request.op)) return true;
      const result = this.apply(request);
      const to = this.ports.addressOf(request.from);
      if (to) {
        this.ports.sendStream(to, encodePayload(PayloadKind.keyResult, result)).catch((error: Error) => {
          this.ports.log(`key ${request.op}: could not answer ${request.from}: ${error.message}`);
        });
      }
      return true;
    }
    if (decoded.kind === PayloadKind.keyResult) {
      const result = decoded.body as KeyResult;
      // A member's answer is counted later (countKeys): one of another shape would throw out of run().
      if (!isKeyResult(result)) return true;
      const waiting = this.pending.get(result.id);
      if (waiting && waiting.expected.has(result.node)) {
        waiting.results.set(result.node, result);
        if ([...waiting.expected].every((n) => waiting.results.has(n))) waiting.done();
      }
      return true;
    }
    return true;
  }

  private apply(request: KeyRequest): KeyResult {
    const { keyring, store, nodeName } = this.ports;
    const answer = (error?: string): KeyResult => ({
      id: request.id,
      node: nodeName,
      keys: keyring.getKeys().map(keyToBase64),
      ...(error ? { error } : {}),
    });
    try {
      if (request.op === 'list') return answer();
      const key = decodeKey(request.key);
      if (request.op === 'install') keyring.addKey(key);
      else if (request.op === 'use') keyring.useKey(key);
      else keyring.removeKey(key);
      store.save(keyring);
      this.ports.log(`gossip key ${request.op} applied (requested by ${request.from})`);
      return answer();
    } catch (error) {
      return answer((error as Error).message);
    }
  }
}

function isKeyResult(r: unknown): r is KeyResult {
  if (typeof r !== 'object' || r === null) return false;
  const { id, node, error, keys } = r as Record<string, unknown>;
  return typeof id === 'string' && typeof node === 'string' && (error === undefined || typeof error === 'string') && Array.isArray(keys) && keys.every((k) => typeof k === 'string');
}

function decodeKey(text: string | undefined): Uint8Array {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (typeof text !== 'string' || bytes.toString('base64') !== text || ![16, 24, 32].includes(bytes.length)) {
    throw new CaxtonError('INVALID_ARGUMENT', 'key: expected a base64 key of 16, 24 or 32 bytes', { field: 'key' });
  }
  return new Uint8Array(bytes);
}

function countKeys(results: KeyResult[]): KeyCount[] {
  const counts = new Map<string, KeyCount>();
  for (const r of results) {
    r.keys.forEach((key, i) => {
      const c = counts.get(key) ?? { key, installed: 0, primary: 0 };
      c.installed += 1;
      if (i === 0) c.primary += 1;
      counts.set(key, c);
    });
  }
  return [...counts.values()].sort((a, b) => b.primary - a.primary || b.installed - a.installed);
}

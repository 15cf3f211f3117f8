// Join tokens: one line `caxton-join-v1.<CA sha256 fingerprint>.<secret>`. The fingerprint lets a joining node
// pin the CA before it trusts anything; the secret proves it may get a certificate. The CA node keeps only
// hashes of secrets, each with an expiry, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSecret } from './tls-files.ts';

const PREFIX = 'caxton-join-v1';
/** Tokens kept on the CA node (oldest dropped): far more than joins in flight, and a bounded file. */
export const MAX_JOIN_TOKENS = 100;
const TOKENS_FILE = 'join-tokens.json';

export interface JoinToken {
  /** The CA certificate's SHA-256 fingerprint, lower-case hex. */
  caFingerprint: string;
  /** 32 random bytes, base64url. */
  secret: string;
}

export function formatJoinToken(token: JoinToken): string {
  return `${PREFIX}.${token.caFingerprint}.${token.secret}`;
}

export function parseJoinToken(text: string): JoinToken | null {
  const parts = text.trim().split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return null;
  if (!/^[0-9a-f]{64}$/.test(parts[1]) || !/^[A-Za-z0-9_-]{43}$/.test(parts[2])) return null;
  return { caFingerprint: parts[1], secret: parts[2] };
}

interface StoredToken {
  sha256: string;
  expiresAt: number;
}

const hashOf = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** The secrets a CA node accepts, in `<tls dir>/join-tokens.json` (0600). */
export class JoinTokenStore {
  private readonly path: string;

  constructor(dir: string, private readonly now: () => number = Date.now) {
    this.path = join(dir, TOKENS_FILE);
  }

  /** A new secret valid for ttlMs. */
  create(ttlMs: number): string {
    const secret = randomBytes(32).toString('base64url');
    const live = this.load().filter((t) => t.expiresAt > this.now());
    live.push({ sha256: hashOf(secret).toString('hex'), expiresAt: this.now() + ttlMs });
    this.save(live.slice(-MAX_JOIN_TOKENS));
    return secret;
  }

  /** True when `secret` is one of the unexpired secrets. Every stored hash is compared, in constant time. */
  accepts(secret: string): boolean {
    const wanted = hashOf(secret);
    let ok = false;
    const now = this.now();
    for (const t of this.load()) {
      const stored = Buffer.from(t.sha256, 'hex');
      if (stored.length === wanted.length && timingSafeEqual(stored, wanted) && t.expiresAt > now) ok = true;
    }
    return ok;
  }

  private load(): StoredToken[] {
    if (!existsSync(this.path)) return [];
    try {
      const value = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
      if (!Array.isArray(value)) return [];
      return value.filter((t): t is StoredToken => typeof t?.sha256 === 'string' && typeof t?.expiresAt === 'number');
    } catch {
      return [];
    }
  }

  private save(tokens: StoredToken[]): void {
    writeFileSecret(this.path, JSON.stringify(tokens));
  }
}

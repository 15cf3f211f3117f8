// API keys: the plaintext is shown once, at creation; only its sha256 is stored, so neither a copy of the
// database nor a backup yields a usable key. Keys are 256 random bits: a plain (unsalted) hash is enough,
// nothing about them can be guessed from a dictionary.
import { hash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaxtonError } from '../errors.ts';
import type { Principal, Role } from './principal.ts';
import type { SqliteDatabase } from './database.ts';
import { checkPrivateFile } from './file-permissions.ts';

export const API_KEY_PREFIX = 'cxk_';
export const ADMIN_KEY_FILE = 'admin.key';
/** The name of the key written to admin.key; it is the principal id the audit log shows for it. */
export const ADMIN_KEY_NAME = 'admin';

const ROLES: ReadonlySet<Role> = new Set(['admin', 'operator', 'deployer', 'sender', 'viewer']);

export interface ApiKeyInfo {
  id: number;
  name: string;
  role: Role;
  created_at: string;
}

export interface CreatedApiKey extends ApiKeyInfo {
  /** The plaintext: give it to the user now, it cannot be recovered later. */
  key: string;
}

function hashOf(token: string): string {
  return hash('sha256', token, 'hex');
}

/** What a key grants, kept in memory by the hash of the key. */
interface KeyGrant {
  name: string;
  role: Role;
}

/** Keys remembered as verified (~200 B each): the hot path skips a hash per request. */
const VERIFIED_CACHE_MAX = 10_000;
/** `cxk_` + 32 random bytes in base64url: anything else cannot be a key this store made. */
const API_KEY_LENGTH = API_KEY_PREFIX.length + 43;

/**
 * The node's process is the only writer of its api_keys table (a restore needs the node stopped), so the table is
 * read once at start and then mirrored in memory: a wrong key costs one hash and one map lookup, never a query.
 * The mirror holds one entry (~200 B) per key in the table; keys are made only by admins, one request each.
 */
export class ApiKeyStore {
  /** Tokens verified before, by plaintext; only valid keys (an attacker's guesses never fill it); emptied on any revoke. */
  private readonly verified = new Map<string, Principal>();
  /** Every key in the table, by the hex sha256 of its plaintext. */
  private readonly byHash = new Map<string, KeyGrant>();
  private readonly now: () => Date;
  private readonly insert;
  private readonly selectAll;
  private readonly deleteByName;

  constructor(db: SqliteDatabase, now: () => Date = () => new Date()) {
    this.now = now;
    this.insert = db.prepare('INSERT INTO api_keys (name, role, key_sha256, created_at) VALUES (?, ?, ?, ?)');
    this.selectAll = db.prepare('SELECT id, name, role, created_at FROM api_keys ORDER BY id');
    this.deleteByName = db.prepare('DELETE FROM api_keys WHERE name = ?');
    for (const row of db.prepare('SELECT name, role, key_sha256 FROM api_keys').iterate() as Iterable<KeyGrant & { key_sha256: string }>) {
      this.byHash.set(row.key_sha256, { name: row.name, role: row.role });
    }
  }

  /** A new key for `role`; `name` is unique (CONFLICT otherwise) and becomes the principal id. */
  create(role: Role, name: string): CreatedApiKey {
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    return { ...this.register(role, name, key), key };
  }

  /** Stores the hash of a key made elsewhere (an admin.key file that outlived its database). */
  register(role: Role, name: string, key: string): ApiKeyInfo {
    if (!ROLES.has(role)) throw new CaxtonError('INVALID_ARGUMENT', `role: unknown role '${role}'`, { field: 'role' });
    if (!name) throw new CaxtonError('INVALID_ARGUMENT', 'name: must not be empty', { field: 'name' });
    const createdAt = this.now().toISOString();
    try {
      const keyHash = hashOf(key);
      const result = this.insert.run(name, role, keyHash, createdAt);
      this.byHash.set(keyHash, { name, role });
      return { id: Number(result.lastInsertRowid), name, role, created_at: createdAt };
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new CaxtonError('CONFLICT', `an API key named '${name}' exists already`, { name });
      }
      throw error;
    }
  }

  /** The principal of a key verified before and not revoked since, from memory only (no hash, no lookup). */
  cached(token: string): Principal | undefined {
    return this.verified.get(token);
  }

  /** The principal a bearer token stands for, or null. */
  verify(token: string): Principal | null {
    const known = this.verified.get(token);
    if (known) return known;
    if (token.length !== API_KEY_LENGTH || !token.startsWith(API_KEY_PREFIX)) return null;
    // Looked up by its hash: how long the lookup takes tells nothing about any key's plaintext.
    const grant = this.byHash.get(hashOf(token));
    if (!grant) return null;
    const principal: Principal = Object.freeze({ id: grant.name, role: grant.role, via: 'api-key' });
    if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
    this.verified.set(token, principal);
    return principal;
  }

  /** Every key, without secrets. */
  list(): ApiKeyInfo[] {
    return this.selectAll.all() as ApiKeyInfo[];
  }

  /** Revokes at once (the next request with it is refused); false when there is no key by that name. */
  revoke(name: string): boolean {
    // Every cached key goes, not only this one's: revocation must hold from the very next request.
    this.verified.clear();
    for (const [keyHash, grant] of this.byHash) if (grant.name === name) this.byHash.delete(keyHash);
    return this.deleteByName.run(name).changes === 1;
  }
}

export interface AdminKeyResult {
  path: string;
  /** True when this start wrote the file (the node logs where it is). */
  created: boolean;
  key: string;
}

/**
 * First start: creates an admin key and writes it to `<dataDir>/admin.key` (0600). Later starts keep the file
 * and make sure its key is still valid (re-registering it if the database was replaced).
 */
export function ensureAdminKey(dataDir: string, keys: ApiKeyStore): AdminKeyResult {
  const path = join(dataDir, ADMIN_KEY_FILE);
  if (existsSync(path)) {
    checkPrivateFile(path);
    const key = readFileSync(path, 'utf8').trim();
    if (!keys.verify(key)) {
      if (!key.startsWith(API_KEY_PREFIX)) throw new Error(`${path} does not hold a Caxton API key; delete it to get a new one`);
      keys.revoke(ADMIN_KEY_NAME);
      keys.register('admin', ADMIN_KEY_NAME, key);
    }
    return { path, created: false, key };
  }
  keys.revoke(ADMIN_KEY_NAME);
  const { key } = keys.create('admin', ADMIN_KEY_NAME);
  // 'wx': never overwrite a file another process wrote in between; mode applies at creation, before any byte.
  writeFileSync(path, key + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // in case the umask removed nothing we rely on, make the mode exact
  return { path, created: true, key };
}

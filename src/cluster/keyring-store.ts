// The gossip keyring on disk, in Serf's keyring-file format (a JSON array of base64 keys, the primary
// first) with mode 0600 as Serf writes it: a restarted node keeps the keys a rotation gave it.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaxtonError } from '../errors.ts';
import { Keyring } from './wire/keyring.ts';

export const KEYRING_FILE = 'gossip.keyring';

export const keyToBase64 = (key: Uint8Array): string => Buffer.from(key).toString('base64');

export class KeyringStore {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, KEYRING_FILE);
  }

  exists(): boolean {
    return existsSync(this.path);
  }

  /** The stored keyring, or undefined when there is none (encryption off). */
  load(): Keyring | undefined {
    if (!this.exists()) return undefined;
    let keys: unknown;
    try {
      keys = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      throw new CaxtonError('INVALID_ARGUMENT', `${this.path}: not a keyring file (${(error as Error).message})`);
    }
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string')) {
      throw new CaxtonError('INVALID_ARGUMENT', `${this.path}: expected a JSON array of base64 keys, primary first`);
    }
    try {
      return Keyring.fromBase64(keys[0] as string, keys.slice(1) as string[]);
    } catch (error) {
      throw new CaxtonError('INVALID_ARGUMENT', `${this.path}: ${(error as Error).message}`);
    }
  }

  /** Writes atomically (temp file + rename) so a crash never leaves a half-written keyring. */
  save(keyring: Keyring): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(keyring.getKeys().map(keyToBase64), null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }
}

// memberlist's Keyring (keyring.go): the primary key encrypts, every installed key is tried to decrypt,
// so keys rotate without downtime (install everywhere, use everywhere, then remove the old one).
import { validateKey } from './security.ts';

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class Keyring {
  /** keys[0] is the primary key; the rest only decrypt. */
  private keys: Uint8Array[] = [];

  /** Keys are 16, 24 or 32 bytes (AES-128/192/256); the primary is added first when missing. */
  constructor(primaryKey: Uint8Array, otherKeys: readonly Uint8Array[] = []) {
    this.addKey(primaryKey);
    for (const k of otherKeys) this.addKey(k);
  }

  /** Serf's `-encrypt` and keyring files carry keys as base64. */
  static fromBase64(primary: string, others: readonly string[] = []): Keyring {
    const decode = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
    return new Keyring(decode(primary), others.map(decode));
  }

  getKeys(): readonly Uint8Array[] {
    return this.keys;
  }

  getPrimaryKey(): Uint8Array {
    return this.keys[0];
  }

  addKey(key: Uint8Array): void {
    validateKey(key);
    if (this.keys.some((k) => same(k, key))) return;
    this.keys.push(Uint8Array.from(key));
  }

  useKey(key: Uint8Array): void {
    const index = this.keys.findIndex((k) => same(k, key));
    if (index < 0) throw new Error('Requested key is not in the keyring');
    const [chosen] = this.keys.splice(index, 1);
    this.keys.unshift(chosen);
  }

  removeKey(key: Uint8Array): void {
    if (same(key, this.keys[0])) throw new Error('Removing the primary key is not allowed');
    this.keys = this.keys.filter((k) => !same(k, key));
  }
}

// memberlist's payload encryption (security.go): [version u8][nonce 12][AES-GCM ciphertext + 16-byte tag].
// Version 0 pads the plaintext with PKCS#7 to the AES block size before sealing (memberlist protocol 1);
// version 1 does not (every later protocol). The key length picks AES-128/192/256. The additional data
// is the packet's label, empty here (label-less framing), or the 5-byte stream header for streams.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export type EncryptionVersion = 0 | 1;

const VERSION_SIZE = 1;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const BLOCK_SIZE = 16;

/** What encryption adds at most to a message (memberlist's encryptOverhead). */
export function encryptOverhead(version: EncryptionVersion): number {
  return version === 0 ? 45 : 29;
}

/** Exact encrypted size of an input of `length` bytes (memberlist's encryptedLength). */
export function encryptedLength(version: EncryptionVersion, length: number): number {
  const padding = version === 0 ? BLOCK_SIZE - (length % BLOCK_SIZE) : 0;
  return VERSION_SIZE + NONCE_SIZE + length + padding + TAG_SIZE;
}

export function validateKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`key size must be 16, 24 or 32 bytes, got ${key.length}`);
  }
}

function algorithm(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  validateKey(key);
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

function pkcs7Pad(msg: Uint8Array): Uint8Array {
  const more = BLOCK_SIZE - (msg.length % BLOCK_SIZE);
  const out = new Uint8Array(msg.length + more);
  out.set(msg);
  out.fill(more, msg.length);
  return out;
}

/** Encrypts with a random nonce; `nonce` is injectable only so tests can pin byte vectors. */
export function encryptPayload(
  version: EncryptionVersion,
  key: Uint8Array,
  msg: Uint8Array,
  additionalData: Uint8Array = new Uint8Array(0),
  nonce: Uint8Array = randomBytes(NONCE_SIZE),
): Uint8Array {
  const cipher = createCipheriv(algorithm(key), key, nonce, { authTagLength: TAG_SIZE });
  if (additionalData.length > 0) cipher.setAAD(additionalData);
  const plain = version === 0 ? pkcs7Pad(msg) : msg;
  const body = cipher.update(plain);
  cipher.final();
  const tag = cipher.getAuthTag();
  const out = new Uint8Array(VERSION_SIZE + NONCE_SIZE + body.length + TAG_SIZE);
  out[0] = version;
  out.set(nonce, VERSION_SIZE);
  out.set(body, VERSION_SIZE + NONCE_SIZE);
  out.set(tag, VERSION_SIZE + NONCE_SIZE + body.length);
  return out;
}

function tryDecrypt(key: Uint8Array, msg: Uint8Array, additionalData: Uint8Array): Uint8Array | undefined {
  try {
    const nonce = msg.subarray(VERSION_SIZE, VERSION_SIZE + NONCE_SIZE);
    const body = msg.subarray(VERSION_SIZE + NONCE_SIZE, msg.length - TAG_SIZE);
    const decipher = createDecipheriv(algorithm(key), key, nonce, { authTagLength: TAG_SIZE });
    decipher.setAuthTag(msg.subarray(msg.length - TAG_SIZE));
    if (additionalData.length > 0) decipher.setAAD(additionalData);
    const first = decipher.update(body);
    const last = decipher.final();
    return last.length ? new Uint8Array(Buffer.concat([first, last])) : new Uint8Array(first);
  } catch {
    return undefined;
  }
}

export class DecryptError extends Error {}

/** Tries each key in order (primary first), as memberlist's decryptPayload; throws when none fits. */
export function decryptPayload(keys: readonly Uint8Array[], msg: Uint8Array, additionalData: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (msg.length === 0) throw new DecryptError('Cannot decrypt empty payload');
  const version = msg[0];
  if (version > 1) throw new DecryptError(`Unsupported encryption version ${version}`);
  if (msg.length < encryptedLength(version as EncryptionVersion, 0)) throw new DecryptError(`Payload is too small to decrypt: ${msg.length}`);
  for (const key of keys) {
    const plain = tryDecrypt(key, msg, additionalData);
    if (!plain) continue;
    if (version === 0) {
      const pad = plain[plain.length - 1];
      if (pad < 1 || pad > BLOCK_SIZE || pad > plain.length) throw new DecryptError('bad PKCS7 padding');
      return plain.subarray(0, plain.length - pad);
    }
    return plain;
  }
  throw new DecryptError('No installed keys could decrypt the message');
}

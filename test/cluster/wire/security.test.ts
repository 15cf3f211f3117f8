import { describe, expect, it } from 'vitest';
import { Keyring } from '../../../src/cluster/wire/keyring.ts';
import { decryptPayload, encryptedLength, encryptPayload } from '../../../src/cluster/wire/security.ts';

const key = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('keyring encryption as memberlist security.go', () => {
  it('lays out version, nonce, ciphertext and tag for versions 0 (PKCS7) and 1', () => {
    const msg = new Uint8Array(20).fill(3);
    const nonce = new Uint8Array(12).fill(9);
    const v1 = encryptPayload(1, key(16, 1), msg, undefined, nonce);
    expect(v1.length).toBe(encryptedLength(1, 20)); // 1 + 12 + 20 + 16
    expect(v1.length).toBe(49);
    expect(v1[0]).toBe(1);
    expect([...v1.subarray(1, 13)]).toEqual([...nonce]);
    const v0 = encryptPayload(0, key(16, 1), msg, undefined, nonce);
    expect(v0.length).toBe(encryptedLength(0, 20)); // padded to 32
    expect(v0.length).toBe(61);
    expect(v0[0]).toBe(0);
    expect(decryptPayload([key(16, 1)], v1)).toEqual(msg);
    expect(decryptPayload([key(16, 1)], v0)).toEqual(msg);
  });

  it('PKCS7 pads a full block when the input is block-aligned (version 0)', () => {
    expect(encryptedLength(0, 16)).toBe(1 + 12 + 32 + 16);
    const sealed = encryptPayload(0, key(32, 2), new Uint8Array(16));
    expect(decryptPayload([key(32, 2)], sealed)).toEqual(new Uint8Array(16));
  });

  it('supports 16, 24 and 32-byte keys and rejects others', () => {
    for (const n of [16, 24, 32]) expect(decryptPayload([key(n, 5)], encryptPayload(1, key(n, 5), Uint8Array.of(1)))).toEqual(Uint8Array.of(1));
    expect(() => encryptPayload(1, key(20, 5), Uint8Array.of(1))).toThrow(/16, 24 or 32/);
  });

  it('tries every key of the ring, fails with none, and checks the additional data', () => {
    const ring = new Keyring(key(16, 1), [key(16, 2)]);
    const sealed = encryptPayload(1, key(16, 2), Uint8Array.of(42), Uint8Array.of(10, 0, 0, 0, 1));
    expect(decryptPayload(ring.getKeys(), sealed, Uint8Array.of(10, 0, 0, 0, 1))).toEqual(Uint8Array.of(42));
    expect(() => decryptPayload(ring.getKeys(), sealed)).toThrow(/No installed keys/);
    expect(() => decryptPayload([key(16, 3)], sealed, Uint8Array.of(10, 0, 0, 0, 1))).toThrow(/No installed keys/);
    expect(() => decryptPayload([key(16, 1)], Uint8Array.of(7, 1, 2))).toThrow(/Unsupported encryption version/);
    expect(() => decryptPayload([key(16, 1)], Uint8Array.of(1, 1, 2))).toThrow(/too small/);
  });

  it('rotates keys as memberlist: install, use, remove', () => {
    const ring = Keyring.fromBase64(Buffer.from(key(16, 1)).toString('base64'));
    ring.addKey(key(16, 2));
    ring.addKey(key(16, 2));
    expect(ring.getKeys().length).toBe(2);
    ring.useKey(key(16, 2));
    expect(ring.getPrimaryKey()).toEqual(key(16, 2));
    expect(() => ring.removeKey(key(16, 2))).toThrow(/primary/);
    ring.removeKey(key(16, 1));
    expect(ring.getKeys()).toEqual([key(16, 2)]);
  });
});

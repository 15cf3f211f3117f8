import { describe, expect, it } from 'vitest';
import type { PushPull } from '../../../src/cluster/membership/messages.ts';
import { encodeMessage } from '../../../src/cluster/wire/codec.ts';
import { Keyring } from '../../../src/cluster/wire/keyring.ts';
import { encodePushPull, encodeUserStream } from '../../../src/cluster/wire/pushpull.ts';
import { frameStream, parseStream, StreamError } from '../../../src/cluster/wire/stream.ts';

const fixstr = (t: string): string => (0xa0 | t.length).toString(16) + Buffer.from(t).toString('hex');
const state: PushPull = {
  join: true,
  nodes: [
    { name: 'serf1', addr: Uint8Array.of(127, 0, 0, 1), port: 7946, meta: Uint8Array.of(0xff, 0x80), incarnation: 1, state: 'alive', vsn: [1, 5, 2, 2, 5, 5] },
    { name: 'gone', addr: Uint8Array.of(127, 0, 0, 2), port: 7947, meta: new Uint8Array(0), incarnation: 9, state: 'left', vsn: [1, 5, 2, 2, 5, 4] },
  ],
  userState: Uint8Array.of(1, 2, 3, 4),
};

describe('push-pull stream format', () => {
  it('writes the header as memberlist sendLocalState', () => {
    const bytes = encodePushPull({ join: false, nodes: [], userState: new Uint8Array(0) });
    expect(Buffer.from(bytes).toString('hex')).toBe('06' + '83' + fixstr('Join') + 'c2' + fixstr('Nodes') + '00' + fixstr('UserStateLen') + '00');
  });

  it('parses incrementally: needs more until the user state is complete', () => {
    const bytes = encodePushPull(state);
    for (let cut = 0; cut < bytes.length; cut++) expect(parseStream(bytes.subarray(0, cut), undefined).done).toBe(false);
    expect(parseStream(bytes, undefined)).toEqual({ done: true, message: { kind: 'pushPull', pushPull: state }, consumed: bytes.length });
  });

  it('round-trips compressed and encrypted streams (any keyring key)', () => {
    const ring = new Keyring(new Uint8Array(24).fill(1), [new Uint8Array(16).fill(2)]);
    const sender = new Keyring(new Uint8Array(16).fill(2));
    for (const options of [
      { encryptionVersion: 1 as const, compress: true },
      { encryptionVersion: 1 as const, compress: true, keyring: sender },
      { encryptionVersion: 0 as const, compress: false, keyring: sender },
    ]) {
      const framed = frameStream(encodePushPull(state), options);
      const result = parseStream(framed, options.keyring ? ring : undefined);
      expect(result).toMatchObject({ done: true, message: { kind: 'pushPull', pushPull: state } });
      if (options.keyring) {
        expect(framed[0]).toBe(10);
        expect(parseStream(framed.subarray(0, framed.length - 1), ring).done).toBe(false);
      }
    }
  });

  it('carries pings, acks, errors and user messages', () => {
    const ping = { type: 'ping' as const, seqNo: 4, node: 'x' };
    expect(parseStream(encodeMessage(ping), undefined)).toMatchObject({ done: true, message: { kind: 'message', message: ping } });
    expect(parseStream(encodeUserStream(Uint8Array.of(5, 6)), undefined)).toMatchObject({ message: { message: { type: 'user', payload: Uint8Array.of(5, 6) } } });
    expect(parseStream(encodeMessage({ type: 'err', error: 'no' }), undefined)).toMatchObject({ message: { message: { type: 'err', error: 'no' } } });
    expect(parseStream(Uint8Array.of(55), undefined)).toMatchObject({ message: { kind: 'unknown', messageType: 55 } });
  });

  it('refuses plaintext with a keyring, ciphertext without, and the wrong key', () => {
    const ring = new Keyring(new Uint8Array(16).fill(1));
    expect(() => parseStream(encodePushPull(state), ring)).toThrow(/not encrypted/);
    const sealed = frameStream(encodePushPull(state), { encryptionVersion: 1, compress: false, keyring: ring });
    expect(() => parseStream(sealed, undefined)).toThrow(/encryption is not configured/);
    expect(() => parseStream(sealed, new Keyring(new Uint8Array(16).fill(9)))).toThrow(StreamError);
    expect(() => parseStream(Uint8Array.of(10, 0xff, 0xff, 0xff, 0xff), ring)).toThrow(/larger than limit/);
  });
});

describe('pushNodeState bytes', () => {
  it('writes each node as memberlist (sorted keys, State as an int, Vsn as 6 raw bytes)', () => {
    const bytes = encodePushPull({ join: true, nodes: [{ name: 'a', addr: Uint8Array.of(10, 0, 0, 1), port: 80, meta: new Uint8Array(0), incarnation: 2, state: 'dead', vsn: [1, 5, 2, 2, 5, 4] }], userState: Uint8Array.of(0xee) });
    const header = '83' + fixstr('Join') + 'c3' + fixstr('Nodes') + '01' + fixstr('UserStateLen') + '01';
    const node = '87' + fixstr('Addr') + 'a40a000001' + fixstr('Incarnation') + '02' + fixstr('Meta') + 'c0' + fixstr('Name') + fixstr('a') + fixstr('Port') + '50' + fixstr('State') + '02' + fixstr('Vsn') + 'a6010502020504';
    expect(Buffer.from(bytes).toString('hex')).toBe('06' + header + node + 'ee');
  });
});

// Issue 10, "nothing a peer sends may throw out of a handler": a member's answer to a key operation whose
// `keys` is not a list of strings made the operator's `caxton security keys list` throw (TypeError in the
// count) instead of reporting. Such an answer is now ignored: the member shows as not answering.
import { describe, expect, it } from 'vitest';
import { encodePayload, PayloadKind } from '../../../src/cluster/caxton-payload.ts';
import { KeyRotation } from '../../../src/cluster/key-rotation.ts';
import type { KeyringStore } from '../../../src/cluster/keyring-store.ts';
import type { Member } from '../../../src/cluster/membership/member.ts';
import { Keyring } from '../../../src/cluster/wire/keyring.ts';

describe('a key operation answered with a malformed result', () => {
  it('is reported as unanswered, not thrown', async () => {
    const peer = { name: 'peer' } as Member;
    let rotation!: KeyRotation;
    rotation = new KeyRotation({
      nodeName: 'self',
      keyring: new Keyring(new Uint8Array(16).fill(1)),
      store: { save() {} } as unknown as KeyringStore,
      liveMembers: () => [{ member: peer, caxton: true }],
      addressOf: () => ({ host: '127.0.0.1', port: 1 }),
      sendStream: async (_to, payload) => {
        const request = JSON.parse(new TextDecoder().decode(payload.subarray(2))) as { id: string };
        rotation.handle(encodePayload(PayloadKind.keyResult, { id: request.id, node: 'peer', keys: 'not a list' }));
      },
      answerTimeoutMs: 100,
      log: () => {},
    });
    const report = await rotation.run('list');
    expect(report.applied).toBe(1);
    expect(report.failed).toEqual([{ node: 'peer', error: 'no answer in time' }]);
  });
});

// describeError: the text of anything thrown, for the handlers that report a failure. It must never throw:
// the fuzz suite found `String()` of a thrown object whose `toString` is a number escaping the gateway.
import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/errors.ts';

describe('describeError', () => {
  it('gives an Error its message, and any other value its string form', () => {
    expect(describeError(new RangeError('bad port'))).toBe('bad port');
    expect(describeError('text')).toBe('text');
    expect(describeError(42)).toBe('42');
    expect(describeError(undefined)).toBe('undefined');
    expect(describeError({ a: 1 })).toBe('[object Object]');
  });

  it('never throws, whatever is thrown', () => {
    expect(describeError({ toString: 5 })).toBe('[object Object]');
    expect(describeError({ toString: () => ({}), valueOf: () => ({}) })).toBe('[object Object]');
    expect(describeError(Object.create(null))).toBe('[object Object]');
    expect(describeError(Symbol('s'))).toBe('Symbol(s)');
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(typeof describeError(revoked.proxy)).toBe('string');
  });
});

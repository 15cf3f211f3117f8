import { describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH, nestsDeeperThan, parseJsonBody } from '../../src/api/json-body.ts';

describe('the API JSON body parser', () => {
  it('counts nesting on the raw text, ignoring brackets inside strings and escaped quotes', () => {
    expect(nestsDeeperThan('{"a":[1,{"b":[]}]}', 4)).toBe(false);
    expect(nestsDeeperThan('{"a":[1,{"b":[[]]}]}', 4)).toBe(true);
    expect(nestsDeeperThan('{"a":"[[[[[[\\"[[[["}', 1)).toBe(false);
  });

  it('refuses 200,000 nested arrays after reading no more than the bound', () => {
    const text = `{"content":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    expect(() => parseJsonBody(text)).toThrow(`body: nested deeper than ${MAX_BODY_DEPTH} levels`);
  });

  it('parses what JSON.parse parses, and refuses prototype-poisoning keys as Fastify does', () => {
    expect(parseJsonBody('{"a":[1,"x"],"b":null}')).toEqual({ a: [1, 'x'], b: null });
    expect(() => parseJsonBody('{"a":1')).toThrow('body: malformed JSON');
    expect(() => parseJsonBody('')).toThrow('body: empty');
    expect(() => parseJsonBody('{"content":{"__proto__":{"admin":true}}}')).toThrow('__proto__');
    expect(() => parseJsonBody('{"constructor":{"prototype":{"x":1}}}')).toThrow('constructor.prototype');
    expect(parseJsonBody('{"text":"the __proto__ word in a string is fine"}')).toEqual({ text: 'the __proto__ word in a string is fine' });
  });
});

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH, nestsDeeperThan, parseJsonBody, readJsonBody } from '../../src/api/json-body.ts';

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

describe('readJsonBody (the stream the API reads)', () => {
  const read = (chunks: string[], declared: number, limit = 1 << 20): Promise<{ error: Error | null; value?: unknown; consumed: number }> =>
    new Promise((resolve) => {
      let consumed = 0;
      const stream = Readable.from(
        (function* () {
          for (const c of chunks) {
            consumed++;
            yield Buffer.from(c);
          }
        })(),
      );
      readJsonBody(stream, declared, limit, (error, value) => resolve({ error, value, consumed }));
    });

  it('parses a body that arrives in pieces, split anywhere (even inside a string or an escape)', async () => {
    const r = await read(['{"a":"x\\', '"y","b":[1,', '2]}'], 0);
    expect(r.error).toBeNull();
    expect(r.value).toEqual({ a: 'x"y', b: [1, 2] });
  });

  it('stops reading at the first chunk that nests too deep, and asks to close the connection', async () => {
    const chunks = Array.from({ length: 100 }, () => '['.repeat(1000));
    const r = await read(chunks, 0);
    expect(r.error?.message).toMatch(/nested deeper than/);
    expect((r.error as { closeConnection?: boolean }).closeConnection).toBe(true);
    expect(r.consumed).toBeLessThan(3);
  });

  it('refuses a declared or actual length past the limit as TOO_LARGE', async () => {
    expect((await read(['{}'], 5000, 100)).error).toMatchObject({ code: 'TOO_LARGE' });
    expect((await read(['{"a":"', 'x'.repeat(200), '"}'], 0, 100)).error).toMatchObject({ code: 'TOO_LARGE' });
  });
});

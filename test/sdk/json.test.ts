// The SDK's JSON parser and builder, run inside wasm through the probe agent.
import { beforeAll, describe, expect, it } from 'vitest';
import type { MiniHost } from './mini-host.ts';
import { ask, probeHost } from './probe-agent.ts';

let host: MiniHost;
beforeAll(async () => {
  host = await probeHost();
});

function roundtrip(text: string): { ok: boolean; out?: string } {
  return ask(host, { op: 'roundtrip', text }) as { ok: boolean; out?: string };
}

describe('JSON round trips inside wasm', () => {
  const canonical: unknown[] = [
    null, true, false, 0, 1, -1, 1.5, -0.25, 0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 2 ** 53, -(2 ** 60),
    '', 'plain', 'quote " backslash \\ slash / ', 'controls \n\r\t\b\f \u0000 \u0001 \u001f \u007f',
    'é ü ß 中文 日本語 😀 🎉 \u2028 \u2029', 'lone \ud800 and \udc00 surrogates', [], {}, [[[]]], { '': '' },
    { a: [1, 'two', { three: [true, null] }], 'key "quoted"\n': { nested: { deeper: { deepest: 'x' } } } },
    Array.from({ length: 200 }, (_, i) => ({ i, s: `item ${i}` })),
  ];
  for (const value of canonical) {
    const text = JSON.stringify(value);
    it(`keeps ${text.slice(0, 60)}`, () => {
      expect(roundtrip(text)).toEqual({ ok: true, out: text });
    });
  }

  it('normalizes whitespace and escapes like JSON.stringify', () => {
    const text = ' { "a" : [ 1 , 2 ] ,\n\t"b\\u00e9" : "\\/x\\u0041\\ud83d\\ude00" , "c":{ } } ';
    expect(roundtrip(text)).toEqual({ ok: true, out: JSON.stringify(JSON.parse(text)) });
  });

  it('keeps the spelling of parsed numbers, so content passes through unchanged', () => {
    expect(roundtrip('[1.0,1E2,-0.0,12345678901234567890,0.1e-2]')).toEqual({ ok: true, out: '[1.0,1E2,-0.0,12345678901234567890,0.1e-2]' });
  });

  it('reads integers of up to 15 digits on a short path that prints them back the same', () => {
    const text = '[0,-0,7,-7,100,123456789012345,-123456789012345,1234567890123456,9007199254740993,[10,{"n":-20}]]';
    expect(roundtrip(text)).toEqual({ ok: true, out: text });
    expect(ask(host, { op: 'bits', numbers: [0, -7, 123456789012345, -999999999999999] })).toEqual([0, -7, 123456789012345, -999999999999999].map(bitsOf));
  });

  it('keeps duplicate keys in order, and get() returns the last like JSON.parse', () => {
    expect(roundtrip('{"a":1,"a":2}')).toEqual({ ok: true, out: '{"a":1,"a":2}' });
    expect(ask(host, { op: 'inspect', value: JSON.parse('{"x":0}') })).toMatchObject({ keys: ['x'] });
  });

  const malformed = [
    '', ' ', '{', '}', '{"a":}', '{"a" 1}', '{a:1}', "{'a':1}", '[1,]', '[1 2]', '[,1]', '01', '-', '1.', '.5', '1e', '+1',
    '"abc', '"\\x"', '"\\u12g4"', '"\\u12"', '"a\nb"', 'tru', 'nul', 'True', 'NaN', 'Infinity', '1 2', '{}x', '"\\',
  ];
  for (const text of malformed) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      expect(roundtrip(text)).toEqual({ ok: false });
    });
  }

  it('refuses nesting deeper than 512 instead of exhausting the stack', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(roundtrip(deep(500))).toEqual({ ok: true, out: deep(500) });
    expect(roundtrip(deep(5000))).toEqual({ ok: false });
  });

  it('carries a 200 KB string', () => {
    const text = JSON.stringify({ big: 'x€'.repeat(100_000) });
    expect(roundtrip(text)).toEqual({ ok: true, out: text });
  });
});

function bitsOf(n: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

/** Deterministic doubles spread over the whole exponent range. */
function spreadDoubles(count: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const view = new DataView(new ArrayBuffer(8));
    view.setUint32(0, ((i * 2654435761) >>> 0) % 0x7fe00000);
    view.setUint32(4, (i * 40503 * 2246822519) >>> 0);
    return view.getFloat64(0);
  });
}

describe('numbers read in wasm', () => {
  it('are exactly the doubles JavaScript reads (correctly rounded)', () => {
    const texts = ['0.30000000000000004', '0.1', '1e23', '8.98846567431158e307', '2.2250738585072011e-308',
      '2.2250738585072014e-308', '4.9406564584124654e-324', '2.4703282292062327e-324', '2.4703282292062328e-324',
      '1.7976931348623157e308', '9007199254740993', '9007199254740995', '123456789012345678901234567890',
      '0.000000000000000000000000000000000001234567890123456789', '3.14159265358979323846264338327950288',
      '-0.1e-5', '1e-400', '0e10', '4.4765662023319717e-290', '1.0512779597446652e-67'];
    const numbers = texts.map((t) => JSON.parse(t) as number);
    const answer = ask(host, { op: 'bits', numbers: JSON.parse(`[${texts.join(',')}]`) as number[] });
    expect(answer).toEqual(numbers.map(bitsOf));
  });

  it('are exactly the doubles JavaScript reads, for doubles across the whole range', () => {
    const numbers = spreadDoubles(500);
    expect(ask(host, { op: 'bits', numbers })).toEqual(numbers.map(bitsOf));
  });
});

describe('numbers built in wasm', () => {
  it('print like JavaScript', () => {
    const numbers = [0, -0, 1, -1, 100, 0.1, 0.1 + 0.2, 1 / 3, -2.5, 1234.5678, 1e20, 1e21, 1e-6, 1e-7, 123e-20,
      2 ** 53, 2 ** 60, -1.5e300, 5e-324, Number.MAX_VALUE, 4.35, 0.000001234];
    expect(ask(host, { op: 'format', numbers })).toEqual(numbers.map((n) => String(n)));
  });

  it('print like JavaScript across the whole range (shortest digits that read back the same)', () => {
    const numbers = [...spreadDoubles(500), ...spreadDoubles(200).map((n) => n * 1e-300 * 1e-10)];
    expect(ask(host, { op: 'format', numbers })).toEqual(numbers.map((n) => String(n)));
  });
});

describe('JsonValue accessors', () => {
  it('read each kind, with neutral values for the wrong kind', () => {
    expect(ask(host, { op: 'inspect', value: { b: 1, a: [2] } })).toEqual({
      kind: 'object', string: '', number: null, int: 0, bool: false, length: 2, keys: ['b', 'a'], first: 1, missingIsNull: true,
    });
    expect(ask(host, { op: 'inspect', value: [7, 8] })).toMatchObject({ kind: 'array', length: 2, keys: ['', ''], first: 7 });
    expect(ask(host, { op: 'inspect', value: -12.75 })).toMatchObject({ kind: 'number', number: -12.75, int: -12, first: null });
    expect(ask(host, { op: 'inspect', value: 'hé' })).toMatchObject({ kind: 'string', string: 'hé', length: 0 });
    expect(ask(host, { op: 'inspect', value: true })).toMatchObject({ kind: 'bool', bool: true });
    expect(ask(host, { op: 'inspect', value: null })).toMatchObject({ kind: 'null', missingIsNull: true });
  });
});

describe('the builder', () => {
  it('builds objects, arrays and escaped strings exactly', () => {
    const expected = {
      text: 'quote " backslash \\ slash / newline \n tab \t cr \r nul \u0000 bell \u0007',
      unicode: 'é ü 中文 😀',
      lone: '\ud800x',
      big: 'BIG',
      negative: -42,
      float: 0.1,
      tiny: 5e-324,
      huge: 1e300,
      nan: null,
      yes: true,
      nothing: null,
      list: [1, 'two', [], {}],
      replaced: 'new',
    };
    const text = JSON.stringify(expected).replace('"BIG"', '1152921504606846976');
    const answer = ask(host, { op: 'build' }) as { value: unknown; text: string };
    expect(answer.text).toBe(text);
    expect(answer.value).toEqual(JSON.parse(text));
  });
});

// What a W3C traceparent is (https://www.w3.org/TR/trace-context/#traceparent-header), written once for both
// ways one arrives: a message's `trace_context` (message.ts: clients, agents and peers) and an API client's
// `traceparent` header (../observability/trace-context.ts reads it into a span context). It lives in messaging,
// the lower of the two layers, so that messaging needs nothing of observability.
//
//   version "-" trace-id "-" parent-id "-" trace-flags [ "-" fields of a later version ]
//   2 hex       32 hex       16 hex        2 hex
//
// Lowercase hex. Invalid: version ff, an all-zero trace id, an all-zero parent id, and version 00 with anything
// after its flags (its format ends there: the W3C test suite expects `00-…-01-x` to restart the trace). What a
// later version puts after the flags is not read; the spec asks only that a dash follow the flags. A regex: as
// fast as the shape-only one it replaced, faster than a loop over char codes (measured), and the OpenAPI
// document shows it as the field's pattern.

/** The longest traceparent taken: a later version may add fields, but not without end. */
export const MAX_TRACEPARENT_CHARS = 256;

const HEX2 = '[0-9a-f]{2}';
/** `n` lowercase hex digits, not all zero: a trace id (32) or a span id (16). */
const id = (n: number) => `(?!0{${n}})[0-9a-f]{${n}}`;
/** trace-id "-" parent-id "-" trace-flags. */
const FIELDS = `${id(32)}-${id(16)}-${HEX2}`;

/**
 * A traceparent whose later-version fields are made of `laterChar` (a regex character class): where the text is
 * carried on verbatim, its carrier may want fewer characters than the spec allows. Version 00 exactly, or another
 * version but ff, with or without fields after its flags. (Two branches rather than a look-ahead for "00 going on
 * past index 55": that one scanned the whole text again and made the check ~2x slower.) Length is not bounded here.
 */
export function traceparentPattern(laterChar: string): RegExp {
  return new RegExp(`^(?:00-${FIELDS}|(?!00|ff)${HEX2}-${FIELDS}(?:-${laterChar}*)?)$`);
}

/** Any later-version fields: they are not read. */
const TRACEPARENT = traceparentPattern('[\\s\\S]');
const SPAN_ID = new RegExp(`^${id(16)}$`);

export function isTraceparent(text: string): boolean {
  return text.length <= MAX_TRACEPARENT_CHARS && TRACEPARENT.test(text);
}

/** A valid span id (a traceparent's parent-id): 16 lowercase hex digits, not all zero. */
export function isSpanId(id: string): boolean {
  return SPAN_ID.test(id);
}

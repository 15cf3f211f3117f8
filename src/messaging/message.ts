// The FIPA-ACL message of ../shared/spec/messages.md: one schema for agents (ABI), clients (REST) and
// peers (inter-node routing), so a message refused on one path is refused on every path.
import { z } from 'zod';
import { MAX_TRACEPARENT_CHARS, traceparentPattern } from './traceparent.ts';

export const PERFORMATIVES = [
  'accept-proposal',
  'agree',
  'cancel',
  'cfp',
  'failure',
  'inform',
  'inform-if',
  'inform-ref',
  'not-understood',
  'propose',
  'query-if',
  'query-ref',
  'refuse',
  'reject-proposal',
  'request',
  'subscribe',
] as const;

export type Performative = (typeof PERFORMATIVES)[number];

/** Performatives whose sender waits for an answer: a failure goes back when the receiver cannot handle them. */
export const EXPECTS_REPLY: ReadonlySet<Performative> = new Set([
  'request',
  'query-if',
  'query-ref',
  'cfp',
  'subscribe',
]);

export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const CAPABILITY_PREFIX = 'capability:';
export const CLIENT_PREFIX = 'client:';
export const TOOL_PREFIX = 'tool:';
export const MAX_RECEIVERS = 100;
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/**
 * How deep `content` may nest (objects and arrays). Far above any real document, far below the ~10,000
 * levels where the recursive serializers of the host (JSON.stringify, msgpack) overflow the stack: content
 * 10k–400k deep fits in 1 MiB, was accepted, and then broke delivery and the history writer (issue 10).
 */
export const MAX_CONTENT_DEPTH = 128;

/** A receiver: an agent name, `capability:<cap>`, or `client:<principal>` (a reply to an API client). */
const receiverAddress = z
  .string()
  .min(1)
  .max(256)
  .refine(
    (r) =>
      AGENT_NAME_PATTERN.test(r) ||
      (r.startsWith(CAPABILITY_PREFIX) && r.length > CAPABILITY_PREFIX.length) ||
      (r.startsWith(CLIENT_PREFIX) && r.length > CLIENT_PREFIX.length),
    { message: 'must be an agent name matching ^[a-z0-9][a-z0-9._-]{0,62}$, capability:<cap> or client:<id>' },
  );

const rfc3339 = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), {
  message: 'must be an RFC 3339 timestamp',
});

/**
 * W3C traceparent (traceparent.ts); a later version may append fields after a dash, here printable ASCII without
 * `"` or `\`. Checked, not only measured: the host splices a carried traceparent into the text of the messages an
 * agent sends, and a quote there rewrote their sender.
 */
const TRACEPARENT = traceparentPattern('[!#-[\\]-~]');
/** W3C tracestate: list members of printable ASCII. */
const TRACESTATE = /^[ -~]*$/;

/** What the schema accepts as a trace_context, checked by hand (messages from other nodes skip zod). */
export function isTraceContext(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { traceparent, tracestate, ...rest } = value as { traceparent?: unknown; tracestate?: unknown };
  if (Object.keys(rest).length !== 0 || typeof traceparent !== 'string' || traceparent.length > MAX_TRACEPARENT_CHARS || !TRACEPARENT.test(traceparent)) return false;
  return tracestate === undefined || (typeof tracestate === 'string' && tracestate.length <= 1024 && TRACESTATE.test(tracestate));
}

const traceContext = z.strictObject({
  traceparent: z.string().max(MAX_TRACEPARENT_CHARS).regex(TRACEPARENT, { message: 'must be a W3C traceparent (version-traceid-spanid-flags in lowercase hex)' }),
  tracestate: z.string().max(1024).regex(TRACESTATE, { message: 'must be printable ASCII (W3C tracestate)' }).optional(),
});

/** Every field a message may carry; `strictObject` refuses unknown fields, as the spec requires. */
export const messageSchema = z.strictObject({
  performative: z.enum(PERFORMATIVES, {
    error: (issue) => `${issue.input === undefined ? 'required' : `unknown performative ${JSON.stringify(issue.input)}`}: one of ${PERFORMATIVES.join(', ')}`,
  }),
  sender: z.string().min(1).max(256).optional(),
  receiver: z.union(
    [
      receiverAddress,
      z
        .array(receiverAddress)
        .min(1, 'an empty list: name at least one receiver')
        .max(MAX_RECEIVERS, `at most ${MAX_RECEIVERS} receivers`),
    ],
    { error: (issue) => `${issue.input === undefined ? 'required:' : 'must be'} an agent name, capability:<cap>, or a list of up to ${MAX_RECEIVERS} of them` },
  ),
  content: z.unknown().optional(),
  language: z.string().max(256).optional(),
  ontology: z.string().max(256).optional(),
  protocol: z.string().max(256).optional(),
  conversation_id: z.string().min(1).max(256).optional(),
  reply_with: z.string().max(256).optional(),
  in_reply_to: z.string().max(256).optional(),
  reply_by: rfc3339.optional(),
  message_id: z.string().max(256).optional(),
  trace_context: traceContext.optional(),
});

/** A message as submitted: sender, message_id and conversation_id may still be missing. */
export type MessageInput = z.infer<typeof messageSchema>;

/** A message after the host stamped it: who sent it, its id and its conversation are always known. */
export interface AclMessage extends MessageInput {
  sender: string;
  message_id: string;
  conversation_id: string;
}

export type ParseResult = { ok: true; message: MessageInput } | { ok: false; field: string; message: string };

/**
 * Validates an already-decoded JSON value; on failure names the first offending field. A valid message
 * is returned as the same object (callers may stamp it in place); zod runs only when the fast check is
 * unsure, and is what words every error.
 */
export function parseMessage(value: unknown): ParseResult {
  if (isPlainValidMessage(value)) return contentDepthChecked(value);
  const result = messageSchema.safeParse(value);
  if (result.success) return contentDepthChecked(result.data);
  // An unknown field first: `to` instead of `receiver` is better told as "to: unknown" than "receiver: required".
  const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const field = issue.keys.join(',');
    return { ok: false, field, message: `${field}: unknown field; a message has ${Object.keys(messageSchema.shape).join(', ')}` };
  }
  if (issue.path.length === 0) return { ok: false, field: '(message)', message: 'message: must be a JSON object' };
  const field = issue.path.map(String).join('.');
  return { ok: false, field, message: `${field}: ${issue.message}` };
}

function contentDepthChecked(message: MessageInput): ParseResult {
  if (nestedDeeperThan(message.content, MAX_CONTENT_DEPTH)) {
    return { ok: false, field: 'content', message: `content: nested deeper than ${MAX_CONTENT_DEPTH} levels of objects and arrays` };
  }
  return { ok: true, message };
}

/**
 * Whether `value` nests objects and arrays more than `max` deep. Recursive, but never deeper than `max` + 1
 * frames whatever the value's depth, so any depth is safe to ask about; no allocation on the send path.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  return typeof value === 'object' && value !== null && exceeds(value, max);
}

function exceeds(value: object, budget: number): boolean {
  if (budget <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      if (typeof child === 'object' && child !== null && exceeds(child, budget - 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const child: unknown = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && exceeds(child, budget - 1)) return true;
  }
  return false;
}

/** The receivers of a message as a list, whichever form it was written in. */
export function receiversOf(message: Pick<MessageInput, 'receiver'>): string[] {
  return Array.isArray(message.receiver) ? message.receiver : [message.receiver];
}

/** What a reply's `in_reply_to` should be: FIPA echoes `reply_with`; without it the message id stands in. */
export function replyKeyOf(message: Pick<AclMessage, 'reply_with' | 'message_id'>): string {
  return message.reply_with ?? message.message_id;
}

// ---- The fast path of parseMessage ----
// The hot path (every agent send) is a small object with a few known fields. Checking it by hand allocates
// nothing, where zod builds a copy and an issue list. It accepts only what messageSchema accepts; anything
// it is unsure of (an undefined value, reply_by, trace_context, an unknown key) is left to zod.

const PERFORMATIVE_SET: ReadonlySet<string> = new Set(PERFORMATIVES);
const MAX_FIELD_CHARS = 256;

/** AGENT_NAME_PATTERN without the regex engine: 1–63 chars, [a-z0-9] then [a-z0-9._-]. */
function isAgentName(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 63) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) continue;
    if (i > 0 && (c === 0x2e || c === 0x5f || c === 0x2d)) continue;
    return false;
  }
  return true;
}

function isReceiverAddress(r: unknown): boolean {
  if (typeof r !== 'string') return false;
  if (r.length > MAX_FIELD_CHARS) return false;
  return (
    isAgentName(r) ||
    (r.length > CAPABILITY_PREFIX.length && r.startsWith(CAPABILITY_PREFIX)) ||
    (r.length > CLIENT_PREFIX.length && r.startsWith(CLIENT_PREFIX))
  );
}

function isReceiver(r: unknown): boolean {
  if (!Array.isArray(r)) return isReceiverAddress(r);
  if (r.length === 0 || r.length > MAX_RECEIVERS) return false;
  for (let i = 0; i < r.length; i++) if (!isReceiverAddress(r[i])) return false;
  return true;
}

function isShortString(v: unknown, minChars: number): boolean {
  return typeof v === 'string' && v.length >= minChars && v.length <= MAX_FIELD_CHARS;
}

/** True only when messageSchema would accept `value` unchanged. False means "ask zod", not "invalid". */
function isPlainValidMessage(value: unknown): value is MessageInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const fields = value as Record<string, unknown>;
  let required = 0;
  for (const key in fields) {
    const v = fields[key];
    switch (key) {
      case 'performative':
        if (typeof v !== 'string' || !PERFORMATIVE_SET.has(v)) return false;
        required++;
        break;
      case 'receiver':
        if (!isReceiver(v)) return false;
        required++;
        break;
      case 'content':
        if (v === undefined) return false;
        break;
      case 'sender':
      case 'conversation_id':
        if (!isShortString(v, 1)) return false;
        break;
      case 'language':
      case 'ontology':
      case 'protocol':
      case 'reply_with':
      case 'in_reply_to':
      case 'message_id':
        if (!isShortString(v, 0)) return false;
        break;
      default:
        return false;
    }
  }
  return required === 2;
}

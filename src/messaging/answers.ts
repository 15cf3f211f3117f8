// What counts as a receiver's answer to a message a client sent and waits on (interfaces.md,
// POST /api/v1/messages?wait_ms). A reply that is not an answer (e.g. `agree` to a request) is still
// returned to the client; it just does not end that receiver's turn.
import type { Performative } from './message.ts';

const ANSWERS_BY_SENT: ReadonlyMap<Performative, ReadonlySet<Performative>> = new Map<
  Performative,
  ReadonlySet<Performative>
>([
  ['request', new Set<Performative>(['inform', 'failure', 'refuse', 'not-understood'])],
  ['cfp', new Set<Performative>(['propose', 'refuse', 'failure', 'not-understood'])],
  ['query-if', new Set<Performative>(['inform', 'failure', 'refuse', 'not-understood'])],
  ['query-ref', new Set<Performative>(['inform', 'failure', 'refuse', 'not-understood'])],
  ['subscribe', new Set<Performative>(['agree', 'refuse', 'failure', 'not-understood'])],
]);

/** True when `reply` ends the replying receiver's turn for a message of performative `sent`. */
export function countsAsAnswer(sent: Performative, reply: Performative): boolean {
  const answers = ANSWERS_BY_SENT.get(sent);
  return answers === undefined || answers.has(reply);
}

/** True when a message of performative `sent` awaits an answer from its receiver (the keys above). */
export function expectsAnswer(sent: Performative): boolean {
  return ANSWERS_BY_SENT.has(sent);
}

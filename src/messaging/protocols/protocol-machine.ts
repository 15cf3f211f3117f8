// What every FIPA interaction protocol the router enforces has in common (messages.md, "Interaction protocols
// the router knows"). A conversation is one initiator and its participants; each participant's part is a small
// state machine advanced by the messages between it and the initiator. A protocol is a table of those
// transitions plus, where a rule spans participants (contract net: no decision before every proposal is in),
// a guard. Pure: no clock, no I/O; the tracker feeds it.
import type { Performative } from '../message.ts';

/** Who sent a message within a conversation. */
export type Role = 'initiator' | 'participant';

/**
 * A participant's part ended because it never answered by `reply_by`. Common to every protocol and set by the
 * tracker (never by a message), so the tables do not list it.
 */
export const TIMED_OUT = 'timed-out';

/** state → performative → next state, for one role. */
export type TransitionTable = Readonly<Record<string, Readonly<Partial<Record<Performative, string>>>>>;

/** What a step may look at beyond the participant's own state. */
export interface StepContext {
  /** Participants still in the opening state: they have neither answered the opening message nor timed out. */
  readonly openingPending: number;
}

/** A protocol rule that a table cannot express; returns why the step is refused, or undefined. */
export type StepGuard = (state: string, performative: Performative, role: Role, context: StepContext) => string | undefined;

export interface ProtocolDefinition {
  readonly name: string;
  /** The performatives that open a conversation, and the state each addressed participant starts in. */
  readonly opening: Readonly<Partial<Record<Performative, string>>>;
  /** Messages from the initiator to one participant, by that participant's state. */
  readonly initiator: TransitionTable;
  /** Messages from a participant to the initiator, by the participant's state. */
  readonly participant: TransitionTable;
  /** States in which the participant owes the initiator an answer: `reply_by` and TIMEOUT apply there. */
  readonly awaiting: readonly string[];
  /** The conversation's state as GET /conversations shows it, from its participants' states. */
  summarize(states: Iterable<string>): string;
  readonly guard?: StepGuard;
}

export interface ProtocolMachine extends ProtocolDefinition {
  /** The state a participant starts in when `performative` opens a conversation; undefined: it cannot. */
  openingState(performative: Performative): string | undefined;
  awaitsAnswer(state: string): boolean;
  /** No message may move the participant on from here. */
  isFinal(state: string): boolean;
  /** The next state of one participant's part, or a violation (a reason the sender can act on). */
  step(state: string, performative: Performative, role: Role, context: StepContext): Step;
}

/** A conversation where every participant's part is final. */
export const ENDED = 'ended';

export type Step = { readonly ok: true; readonly next: string } | { readonly ok: false; readonly reason: string };

const EMPTY_ROW: Readonly<Partial<Record<Performative, string>>> = Object.freeze({});

/** Builds the machine from its table, with every successful step pre-made so stepping allocates nothing. */
export function defineProtocol(definition: ProtocolDefinition): ProtocolMachine {
  const awaiting = new Set(definition.awaiting);
  const steps = { initiator: stepTable(definition.initiator), participant: stepTable(definition.participant) };
  const isFinal = (state: string): boolean =>
    state === TIMED_OUT ||
    (Object.keys(definition.initiator[state] ?? EMPTY_ROW).length === 0 &&
      Object.keys(definition.participant[state] ?? EMPTY_ROW).length === 0);
  const finalStates = new Map<string, boolean>();
  return {
    ...definition,
    openingState: (performative) => definition.opening[performative],
    awaitsAnswer: (state) => awaiting.has(state),
    isFinal(state) {
      let final = finalStates.get(state);
      if (final === undefined) {
        final = isFinal(state);
        finalStates.set(state, final);
      }
      return final;
    },
    step(state, performative, role, context) {
      const made = steps[role].get(state)?.get(performative);
      if (made === undefined) return { ok: false, reason: refusal(definition, state, performative, role) };
      const refused = definition.guard?.(state, performative, role, context);
      return refused === undefined ? made : { ok: false, reason: refused };
    },
  };
}

function stepTable(table: TransitionTable): Map<string, Map<Performative, Step>> {
  const steps = new Map<string, Map<Performative, Step>>();
  for (const [state, row] of Object.entries(table)) {
    const byPerformative = new Map<Performative, Step>();
    for (const [performative, next] of Object.entries(row) as [Performative, string][]) {
      byPerformative.set(performative, Object.freeze({ ok: true, next }));
    }
    steps.set(state, byPerformative);
  }
  return steps;
}

/** Says what was expected instead, so an agent author can fix the agent from the error alone. */
function refusal(definition: ProtocolDefinition, state: string, performative: Performative, role: Role): string {
  const other: Role = role === 'initiator' ? 'participant' : 'initiator';
  const head = `${definition.name}: "${performative}" from the ${role} is not allowed when the participant's part is "${state}"`;
  if (state === TIMED_OUT) return `${head}: its deadline passed`;
  const allowed = Object.keys(definition[role][state] ?? EMPTY_ROW);
  if (allowed.length > 0) return `${head}; the ${role} may send: ${allowed.join(', ')}`;
  const theirs = Object.keys(definition[other][state] ?? EMPTY_ROW);
  if (theirs.length > 0) return `${head}; it is the ${other}'s turn (${theirs.join(', ')})`;
  return `${head}; that part has ended`;
}

/** The summary most protocols use: the first listed state any participant is still in, else ENDED. */
export function firstStateIn(order: readonly string[]): (states: Iterable<string>) => string {
  return (states) => {
    let best = order.length;
    for (const state of states) {
      const index = order.indexOf(state);
      if (index !== -1 && index < best) best = index;
    }
    return best < order.length ? order[best] : ENDED;
  };
}

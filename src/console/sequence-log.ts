// The sniffer's model: the node's message and conversation events, filtered to the agents or the
// conversation being watched, as rows of a sequence diagram (one arrow per message and receiver, a marked row
// for a protocol violation or a timeout). Bounded: the newest `maxRows` are kept. Pure: no DOM, tested alone.
import type { AclMessage, NodeEvent } from './types.ts';

export type SequenceRow =
  | { kind: 'message'; key: string; from: string; to: string; performative: string; outcome: string; conversation_id: string; ts: string }
  | { kind: 'violation'; key: string; from?: string; to?: string; performative?: string; code: string; conversation_id: string; ts: string }
  | { kind: 'timeout'; key: string; participant: string; conversation_id: string; ts: string }
  | { kind: 'note'; key: string; text: string; conversation_id: string; ts: string };

export interface SnifferFilter {
  /** Watch this conversation only. */
  conversation?: string;
  /** Watch messages from or to any of these (no agents and no conversation: everything). */
  agents: string[];
}

/** Rows kept: a screenful many times over, and a bound on what a long session holds. */
export const MAX_ROWS = 300;

export class SequenceLog {
  readonly #rows: SequenceRow[] = [];
  readonly #seen = new Set<string>();
  readonly #lanes: string[] = [];
  readonly #max: number;

  constructor(
    readonly filter: SnifferFilter,
    max = MAX_ROWS,
  ) {
    this.#max = max;
    for (const agent of filter.agents) this.#lane(agent);
  }

  get rows(): readonly SequenceRow[] {
    return this.#rows;
  }

  /** Participants left to right, in order of first appearance (the watched agents first). */
  get lanes(): readonly string[] {
    return this.#lanes;
  }

  /** Takes one event from the node's stream; answers whether it added a row. */
  add(event: NodeEvent): boolean {
    const d = event.data;
    const conversation = String(d.conversation_id ?? '');
    if (event.type === 'message') {
      if (typeof d.sender !== 'string' || typeof d.receiver !== 'string' || typeof d.performative !== 'string') return false;
      const from = String(d.sender);
      const to = String(d.receiver);
      if (!this.#wants(conversation, [from, to])) return false;
      return this.#push({
        kind: 'message',
        key: `m:${String(d.message_id)}:${to}`,
        from,
        to,
        performative: String(d.performative),
        outcome: String(d.outcome ?? 'queued'),
        conversation_id: conversation,
        ts: event.ts,
      });
    }
    if (event.type !== 'conversation') return false;
    const change = String(d.change);
    if (change === 'rejected') {
      const from = d.sender === undefined ? undefined : String(d.sender);
      const to = d.receiver === undefined ? undefined : String(d.receiver);
      if (!this.#wants(conversation, [from, to].filter((x): x is string => x !== undefined))) return false;
      return this.#push({
        kind: 'violation',
        key: `v:${String(d.message_id ?? `${conversation}:${event.ts}`)}`,
        from,
        to,
        performative: d.performative === undefined ? undefined : String(d.performative),
        code: String(d.code ?? 'PROTOCOL_VIOLATION'),
        conversation_id: conversation,
        ts: event.ts,
      });
    }
    if (change === 'timed-out') {
      const participant = String(d.participant ?? '?');
      if (!this.#wants(conversation, [participant])) return false;
      return this.#push({ kind: 'timeout', key: `t:${conversation}:${participant}`, participant, conversation_id: conversation, ts: event.ts });
    }
    if (change === 'ended' || change === 'opened') {
      // Notes only for the conversation being watched: with agents picked they would crowd the arrows.
      if (!this.filter.conversation || conversation !== this.filter.conversation) return false;
      return this.#push({ kind: 'note', key: `n:${conversation}:${change}`, text: `${String(d.protocol)} ${change} (${String(d.state)})`, conversation_id: conversation, ts: event.ts });
    }
    return false;
  }

  /** The messages a node recorded for the watched conversation, drawn before the live ones. */
  addHistory(messages: readonly AclMessage[]): void {
    for (const m of messages) {
      for (const to of Array.isArray(m.receiver) ? m.receiver : [m.receiver]) {
        this.#push({ kind: 'message', key: `m:${m.message_id}:${to}`, from: m.sender, to, performative: m.performative, outcome: 'queued', conversation_id: m.conversation_id, ts: '' });
      }
    }
  }

  /** A violation or a timeout names only some of its parties: it is shown when one of them is watched. */
  #wants(conversation: string, names: string[]): boolean {
    if (this.filter.conversation) return conversation === this.filter.conversation;
    if (this.filter.agents.length === 0) return true;
    return names.some((n) => this.filter.agents.includes(n));
  }

  #push(row: SequenceRow): boolean {
    if (this.#seen.has(row.key)) return false;
    this.#seen.add(row.key);
    this.#rows.push(row);
    if (row.kind === 'message') {
      this.#lane(row.from);
      this.#lane(row.to);
    } else if (row.kind === 'violation') {
      if (row.from) this.#lane(row.from);
      if (row.to) this.#lane(row.to);
    } else if (row.kind === 'timeout') this.#lane(row.participant);
    while (this.#rows.length > this.#max) this.#seen.delete(this.#rows.shift()!.key);
    return true;
  }

  #lane(name: string): void {
    // Lanes are bounded too: past 12 participants a diagram is unreadable, the rest share the last lane.
    if (!this.#lanes.includes(name) && this.#lanes.length < MAX_LANES) this.#lanes.push(name);
  }
}

export const MAX_LANES = 12;

/** The lane a participant is drawn on. */
export function laneOf(lanes: readonly string[], name: string): number {
  const i = lanes.indexOf(name);
  return i >= 0 ? i : lanes.length - 1;
}

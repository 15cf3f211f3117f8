// Where a client continues reading a conversation's history: the stored position of the last message it got
// (conversation-segments.ts), as text in an answer (`next_after`) and a query (`after`).
import type { HistoryPosition } from './conversation-segments.ts';

const CURSOR = /^(\d{1,15})\.(\d{1,15})$/;

export function historyCursorOf(position: HistoryPosition): string {
  return `${position[0]}.${position[1]}`;
}

/** The position a cursor names, or undefined when the text is not one. */
export function historyPositionOf(cursor: string): HistoryPosition | undefined {
  const match = CURSOR.exec(cursor);
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

// What the main thread and the history thread say to each other (conversation-log.ts, conversation-log-worker.ts).
import type { HistoryPosition } from './conversation-segments.ts';

export interface HistoryWorkerSetup {
  dataDir: string;
  maxMessages: number;
  maxBytes: number;
  maxAgeMs: number;
}

/** Main → history thread. Rows travel as three parallel arrays: cheaper to copy than an object each. */
export type HistoryRequest =
  | { type: 'rows'; ts: number[]; conversationIds: string[]; texts: string[] }
  | { type: 'list'; id: number; conversationId: string; limit: number; maxBytes: number; after?: HistoryPosition }
  | { type: 'close' };

/** History thread → main. Every `rows` is answered `written` (with `error` when its segment was lost). */
export type HistoryReply =
  | { type: 'written'; count: number; error?: string }
  | { type: 'listed'; id: number; texts?: string[]; more?: boolean; last?: HistoryPosition; error?: string }
  | { type: 'closed' };

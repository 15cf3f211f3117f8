// What the API reads of the node's past: a conversation (its stored messages and, while tracked, its protocol
// state) and the dead letters, each page at most api.max_answer_bytes, with the cursor of the rest.
import { CaxtonError } from '../errors.ts';
import type { ConversationTracker } from '../messaging/conversations/conversation-tracker.ts';
import type { ConversationLog } from '../state/conversation-log.ts';
import type { DeadLetterStore } from '../state/dead-letter-store.ts';
import type { ConversationView, DeadLetterPage } from './services.ts';

export async function conversationPage(
  history: ConversationLog | undefined,
  conversations: ConversationTracker,
  id: string,
  options: { after?: string; maxBytes: number },
): Promise<ConversationView> {
  const page = await history?.page(id, options);
  const messages = page?.messages ?? [];
  const tracked = conversations.view(id);
  // With a cursor the conversation was seen: an empty page past its end is an answer, not a 404.
  if (messages.length === 0 && tracked === undefined && options.after === undefined) {
    throw new CaxtonError('NOT_FOUND', `no conversation "${id}" on this node`, { conversation_id: id });
  }
  const protocol = tracked?.protocol ?? messages.find((m) => m.protocol !== undefined)?.protocol ?? null;
  // Untracked: no protocol the router enforces, or the conversation went idle and was forgotten.
  return {
    conversation_id: id,
    protocol,
    state: tracked?.state ?? 'untracked',
    messages,
    ...(tracked ? { participants: tracked.participants } : {}),
    ...(page?.next !== undefined ? { truncated: true as const, next_after: page.next } : {}),
  };
}

export function deadLetterPage(store: DeadLetterStore, options: { limit?: number; beforeId?: number; maxBytes: number }): DeadLetterPage {
  const { entries, more } = store.page(options);
  return { dead_letters: entries, ...(more ? { truncated: true as const, next_before_id: entries[entries.length - 1].id } : {}) };
}

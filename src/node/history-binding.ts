// Plugs the conversation history into the node: config.state's bounds handed to the history thread, its
// errors to the node's log. Absent when state.conversation_log is off.
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { openConversationLog, type ConversationLog } from '../state/conversation-log.ts';
import type { NodeState } from '../state/node-state.ts';

export function openNodeHistory(config: Config, state: NodeState, logger: Logger): ConversationLog | undefined {
  if (config.state.conversation_log === 'off') return undefined;
  const { log, movedSegments } = openConversationLog(state.database.db, {
    dataDir: config.node.data_dir,
    maxMessages: config.state.conversation_max_messages,
    maxBytes: config.state.conversation_max_bytes,
    maxAgeMs: config.state.conversation_max_age_ms,
    flushIntervalMs: config.state.flush_interval_ms,
    maxBatch: config.state.flush_max_rows,
    onError: (error, dropped) => logger.error({ store: 'conversations', err: error, dropped }, 'state flush failed'),
  });
  if (movedSegments > 0) logger.info({ segments: movedSegments }, 'conversation history moved from caxton.db to conversations.db');
  return log;
}

// The history thread: the only writer of conversations.db. It stores each batch the main thread posts as one
// segment and answers reads, in the order they were posted, so a read sees every row posted before it.
import { parentPort, workerData } from 'node:worker_threads';
import type { HistoryReply, HistoryRequest, HistoryWorkerSetup } from './conversation-log-protocol.ts';
import { ConversationSegments, type HistoryRow } from './conversation-segments.ts';
import { openHistoryDatabase } from './history-database.ts';

const setup = workerData as HistoryWorkerSetup;
const port = parentPort!;
const db = openHistoryDatabase(setup.dataDir);
const segments = new ConversationSegments(db, { maxMessages: setup.maxMessages, maxBytes: setup.maxBytes, maxAgeMs: setup.maxAgeMs });
const reply = (message: HistoryReply): void => port.postMessage(message);

port.on('message', (request: HistoryRequest) => {
  switch (request.type) {
    case 'rows': {
      const count = request.texts.length;
      const rows = new Array<HistoryRow>(count);
      for (let i = 0; i < count; i++) rows[i] = { ts: request.ts[i], conversationId: request.conversationIds[i], text: request.texts[i] };
      try {
        segments.write(rows);
        reply({ type: 'written', count });
      } catch (error) {
        reply({ type: 'written', count, error: String(error) });
      }
      return;
    }
    case 'list': {
      try {
        const { texts, more, last } = segments.page(request.conversationId, request);
        reply({ type: 'listed', id: request.id, texts, more, ...(last !== undefined ? { last } : {}) });
      } catch (error) {
        reply({ type: 'listed', id: request.id, error: String(error) });
      }
      return;
    }
    case 'close': {
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
        reply({ type: 'closed' });
        port.close();
      }
    }
  }
});

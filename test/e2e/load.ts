// A steady client for fault tests: `rate` requests per second to one agent through one node's API, each
// waiting for its answer; every outcome is counted (inform, failure by its code, no answer, more than one).
import type { NodeProcess } from '../helpers/node-process.ts';

export interface LoadTally {
  sent: number;
  answered: number;
  inform: number;
  /** failure (or not-understood) answers by error code; `HTTP_<status>` for a refused request. */
  failures: Record<string, number>;
  unanswered: number;
  extra: number;
  /** When the first inform came back for a request sent after `since()` (0 = not yet measuring). */
  firstInformAfter: number | undefined;
}

/** A tally with nothing counted yet. */
export function newTally(): LoadTally {
  return { sent: 0, answered: 0, inform: 0, failures: {}, unanswered: 0, extra: 0, firstInformAfter: undefined };
}

export interface LoadTarget {
  url: string;
  apiKey(): string;
}

/** Starts sending; stop() stops and resolves when every request sent has finished. */
export function sendLoad(
  via: LoadTarget | NodeProcess,
  receiver: string,
  rate: number,
  tally: LoadTally,
  since: () => number,
  waitMs = 10_000,
  fetchImpl: typeof fetch = fetch,
): { stop: () => Promise<void> } {
  const pending = new Set<Promise<void>>();
  const key = via.apiKey();
  const one = async (): Promise<void> => {
    const sentAt = Date.now();
    tally.sent += 1;
    try {
      const res = await fetchImpl(`${via.url}/api/v1/messages?wait_ms=${waitMs}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ performative: 'request', receiver, content: { at: sentAt } }),
      });
      const body = (await res.json()) as { replies?: { performative: string; content?: { error?: { code?: string } } }[] };
      if (res.status !== 200) {
        tally.answered += 1;
        const code = `HTTP_${res.status}`;
        tally.failures[code] = (tally.failures[code] ?? 0) + 1;
        return;
      }
      const replies = body.replies ?? [];
      if (replies.length === 0) {
        tally.unanswered += 1;
        return;
      }
      if (replies.length > 1) tally.extra += 1;
      tally.answered += 1;
      const reply = replies[0];
      if (reply.performative === 'inform') {
        tally.inform += 1;
        const s = since();
        if (s > 0 && sentAt > s && tally.firstInformAfter === undefined) tally.firstInformAfter = Date.now();
      } else {
        const code = reply.content?.error?.code ?? reply.performative;
        tally.failures[code] = (tally.failures[code] ?? 0) + 1;
      }
    } catch (error) {
      const code = `CLIENT_${(error as Error).name}`;
      tally.answered += 1;
      tally.failures[code] = (tally.failures[code] ?? 0) + 1;
    }
  };
  const timer = setInterval(() => {
    const p = one().finally(() => pending.delete(p));
    pending.add(p);
  }, 1000 / rate);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...pending]);
    },
  };
}

// The direct channel's side of one worker when the worker at the other end is replaced. The main thread's
// notice of the new worker (`peer-port`) travels on another port than the old worker's last batch, so it can
// arrive first: what the old worker posted before it went must still count. Real MessageChannels; the worker
// around the channels is a recording host.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectChannels, type DirectChannelHost } from '../../../src/agents/workers/direct-channels.ts';
import type { FromWorker, PeerItem } from '../../../src/agents/workers/worker-protocol.ts';
import type { AclMessage } from '../../../src/messaging/message.ts';

function recordingHost(): DirectChannelHost & { emitted: FromWorker[]; delivered: { msg: AclMessage; to: string }[] } {
  const emitted: FromWorker[] = [];
  const delivered: { msg: AclMessage; to: string }[] = [];
  return {
    emitted,
    delivered,
    emit: (item) => emitted.push(item),
    wantFlush: () => {},
    deliver(msg, to) {
      delivered.push({ msg, to });
      return 'queued';
    },
    queued: () => {},
    tracks: () => false,
    track: () => {},
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  };
}

const inform = (n: number): AclMessage => ({ performative: 'inform', sender: 'a', receiver: 'b', message_id: `m${n}`, conversation_id: `c${n}` });

const opened: MessagePort[] = [];
function channel(): MessageChannel {
  const pair = new MessageChannel();
  opened.push(pair.port1, pair.port2);
  return pair;
}
afterEach(() => {
  for (const port of opened.splice(0)) port.close();
});

/** The next batch `port` receives. */
function nextBatch(port: MessagePort): Promise<PeerItem[]> {
  return new Promise((resolve) => port.once('message', resolve));
}

describe('direct channels when the other worker is replaced', () => {
  it('settles the sends the old worker answered before it went: only the rest are lost', async () => {
    const host = recordingHost();
    const here = new DirectChannels(host);
    const old = channel();
    here.connect(1, old.port1);
    here.place(1, ['b'], [100]);
    expect(here.send(inform(1), 'b')).toBe(true);
    expect(here.send(inform(2), 'b')).toBe(true);
    const arriving = nextBatch(old.port2);
    here.flush();
    const batch = await arriving;
    expect(batch.map((item) => (item.t === 'direct' ? item.seq : -1))).toEqual([1, 2]);
    // The old worker took message 1 and said so; then it was replaced before this worker read the answer.
    old.port2.postMessage([{ t: 'settled', seqs: [1] }] satisfies PeerItem[]);
    here.connect(1, channel().port1);
    const lost = host.emitted.filter((item) => item.t === 'lost');
    expect(lost.map((item) => (item.t === 'lost' ? item.msg.message_id : ''))).toEqual(['m2']);
  });

  it('drain() takes at once what other workers posted and this one has not read (a release takes it along)', () => {
    const host = recordingHost();
    const here = new DirectChannels(host);
    const peer = channel();
    here.connect(1, peer.port1);
    peer.port2.postMessage([{ t: 'direct', seq: 1, to: 'b', msg: inform(1) }, { t: 'direct', seq: 2, to: 'b', msg: inform(2) }] satisfies PeerItem[]);
    expect(host.delivered).toEqual([]);
    here.drain();
    expect(host.delivered.map((d) => d.msg.message_id)).toEqual(['m1', 'm2']);
  });

  it('delivers what the old worker sent before it went', () => {
    const host = recordingHost();
    const here = new DirectChannels(host);
    const old = channel();
    here.connect(1, old.port1);
    old.port2.postMessage([{ t: 'direct', seq: 7, to: 'b', msg: inform(7) }] satisfies PeerItem[]);
    here.connect(1, channel().port1);
    expect(host.delivered.map((d) => [d.msg.message_id, d.to])).toEqual([['m7', 'b']]);
    expect(host.emitted).toEqual([]);
  });
});

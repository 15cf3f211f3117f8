// The namespace harness itself (test/helpers/netns.ts): two hosts on its bridge reach each other and the
// test reaches both; a cut (both ways, or one way) and 100% random loss stop packets, healing restores them;
// the delay line holds them; cleanup leaves no namespace or link behind. Needs root, iproute2 and iptables
// (and Go for the delay line): skipped loudly without.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDelayLine, delayLineUnavailable } from '../helpers/delay-line.ts';
import { IP_BINARY, NetnsLab, netnsUnavailable, type NsHost } from '../helpers/netns.ts';

const unavailable = netnsUnavailable({ iptables: true });
if (unavailable) console.warn(`SKIPPED netns harness tests: ${unavailable}`);
const noDelayLine = delayLineUnavailable();
if (!unavailable && noDelayLine) console.warn(`\n!!! SKIPPED the delay part of the netns harness test: ${noDelayLine} !!!\n`);

const SERVER = "require('net').createServer((s) => s.end('ok')).listen(9000, process.argv[1])";
const CLIENT =
  "const s = require('net').connect(9000, process.argv[1]); s.setTimeout(1500, () => process.exit(3)); s.on('data', () => process.exit(0)); s.on('error', () => process.exit(2));";

describe.skipIf(unavailable !== null)('network namespace harness', () => {
  let lab: NetnsLab | undefined;
  afterAll(async () => {
    await lab?.cleanup();
  });

  it('connects, cuts, delays and heals real packets, and cleans up after itself', { timeout: 60_000 }, async () => {
    lab = new NetnsLab(noDelayLine ? {} : { delayLine: await buildDelayLine() });
    const a = lab.addHost('a');
    const b = lab.addHost('b');
    lab.spawn(a, process.execPath, ['-e', SERVER, a.ip]);
    lab.spawn(b, process.execPath, ['-e', SERVER, b.ip]);
    const reaches = (from: NsHost, to: NsHost): boolean => {
      try {
        lab!.exec(from, process.execPath, ['-e', CLIENT, to.ip]);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 10_000;
    while (!reaches(a, b) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(reaches(a, b)).toBe(true);
    expect(reaches(b, a)).toBe(true);
    // The test's own namespace reaches the hosts through its veth on the bridge.
    const fromTest = await new Promise<boolean>((resolve) => {
      const s = connect(9000, a.ip);
      s.setTimeout(1500, () => (s.destroy(), resolve(false)));
      s.on('data', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    expect(fromTest).toBe(true);

    lab.partition([a], [b]);
    expect(reaches(a, b)).toBe(false);
    expect(reaches(b, a)).toBe(false);
    lab.heal();
    expect(reaches(a, b)).toBe(true);

    // One way: a's packets to b are dropped; a TCP connection needs both ways, so neither side connects.
    lab.partition([a], [b], true);
    expect(reaches(a, b)).toBe(false);
    lab.heal();
    expect(reaches(b, a)).toBe(true);

    lab.lose(a, b, 100);
    expect(reaches(a, b)).toBe(false);
    lab.heal();
    expect(reaches(a, b)).toBe(true);

    if (!noDelayLine) {
      // A connection and its answer take at least two round trips; 150 ms each way makes one 300 ms.
      await lab.delay(a, 150);
      const started = performance.now();
      expect(reaches(a, b)).toBe(true);
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
      await lab.delay(a, 0);
    }

    const prefix = lab.prefix;
    await lab.cleanup();
    expect(execFileSync(IP_BINARY!, ['netns', 'list']).toString()).not.toContain(prefix);
    expect(execFileSync(IP_BINARY!, ['link', 'show']).toString()).not.toContain(prefix);
  });
});

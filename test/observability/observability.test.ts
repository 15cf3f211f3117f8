import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';

describe('metrics', () => {
  it('exports counters incremented through bound cells in the text format', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const queued = metrics.messagesRouted.child('queued');
    queued.inc();
    queued.inc(2);
    metrics.messagesRouted.child('remote').inc();
    metrics.agentInvocations.child('message', 'trap').inc();
    metrics.agentTraps.child('fuel').inc();
    metrics.deadLetters.child('MAILBOX_FULL').inc(4);
    metrics.httpRequestDuration.observe({ method: 'GET', route: '/health', status: '200' }, 0.002);
    const text = await metrics.metrics();
    expect(text).toContain('caxton_messages_routed_total{outcome="queued"} 3');
    expect(text).toContain('caxton_messages_routed_total{outcome="remote"} 1');
    expect(text).toContain('caxton_messages_routed_total{outcome="mailbox_full"} 0');
    expect(text).toContain('caxton_agent_invocations_total{kind="message",outcome="trap"} 1');
    expect(text).toContain('caxton_agent_invocations_total{kind="init",outcome="ok"} 0');
    expect(text).toContain('caxton_agent_traps_total{reason="fuel"} 1');
    expect(text).toContain('caxton_dead_letters_total{reason="MAILBOX_FULL"} 4');
    expect(text).toContain('caxton_http_request_duration_seconds_bucket{le="0.0025",method="GET",route="/health",status="200"} 1');
    expect(text).not.toContain('process_cpu');
    // Cumulative across scrapes, not reset by them.
    queued.inc();
    expect(await metrics.metrics()).toContain('caxton_messages_routed_total{outcome="queued"} 4');
  });

  it('hands out the same cell for the same labels and checks the label count', () => {
    const metrics = createMetrics({ processMetrics: false });
    expect(metrics.agentInvocations.child('timer', 'ok')).toBe(metrics.agentInvocations.child('timer', 'ok'));
    expect(() => metrics.agentInvocations.child('timer')).toThrow(/expected 2 label values/);
  });

  it('reads the gauges from the sources the node sets, at scrape time', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let depth = 5;
    metrics.setMailboxDepthSource(() => depth);
    metrics.setAgentCountSource(() => ({ running: 3, failed: 1 }));
    expect(await metrics.metrics()).toContain('caxton_mailbox_depth 5');
    depth = 9;
    const text = await metrics.metrics();
    expect(text).toContain('caxton_mailbox_depth 9');
    expect(text).toContain('caxton_agents{state="running"} 3');
    expect(text).toContain('caxton_agents{state="failed"} 1');
    expect(text).toContain('caxton_agents{state="draining"} 0');
  });

  it('keeps one registry per node: two nodes in one process do not share counts', async () => {
    const a = createMetrics({ defaultLabels: { node: 'a' } });
    const b = createMetrics({ defaultLabels: { node: 'b' } });
    a.messagesRouted.child('queued').inc(7);
    const textA = await a.metrics();
    const textB = await b.metrics();
    expect(textA).toContain('caxton_messages_routed_total{outcome="queued",node="a"} 7');
    expect(textB).toContain('caxton_messages_routed_total{outcome="queued",node="b"} 0');
    expect(textA).toContain('process_cpu_user_seconds_total');
    expect(a.contentType).toMatch(/^text\/plain/);
  });
});

describe('logger', () => {
  it('writes JSON lines with level name, ISO time and node id, at or above the level, secrets redacted', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger({ level: 'info', node: 'node-1', destination: { write: (s: string) => void destination.write(s) } });
    logger.debug('hidden');
    logger.info({ adminKeyPath: '/d/admin.key', key: 'cxk_secret' }, 'admin key written');
    logger.child({ agent: 'echo' }).warn('trap');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]);
    expect(first).toMatchObject({ level: 'info', node: 'node-1', msg: 'admin key written', adminKeyPath: '/d/admin.key', key: '<redacted>' });
    expect(Date.parse(first.time)).not.toBeNaN();
    expect(JSON.parse(lines[1])).toMatchObject({ level: 'warn', node: 'node-1', agent: 'echo', msg: 'trap' });
  });
});

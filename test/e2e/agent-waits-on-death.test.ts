// Issue 12, "messages that were in flight to the dead node reach their senders as `failure`", for agents, on
// three real node processes: agent `asker` (pinned to node 1) sends requests to agent `holder` (pinned to
// node 2), which never answers them; node 2's link acknowledges them, so no LINK_LOST will come. Node 2 is
// SIGKILLed: once node 1 declares it dead, `asker` gets, for each request still unanswered, exactly one
// `failure` NODE_FAILED from `holder` in that request's conversation, in reply to it; a request `holder`
// answered before the kill gets nothing more. Then `caxton cluster leave` on node 3, which runs `stayer`
// pinned to it (a pinned agent is not handed over): each request `stayer` holds gets one `failure`
// NODE_FAILED once node 1 sees node 3 `left`. Seen through node 1's conversation API (what was routed to
// `asker`) and its log. Figures as JSON lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AclMessage } from '../../src/messaging/message.ts';
import { exampleModule } from '../helpers/modules.ts';
import { runCli } from '../helpers/node-process.ts';
import { api, firstChange, startTokenCluster, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const IDS = ['dw-1', 'dw-2', 'dw-3'];
const HELD = 20;
const b64 = Buffer.from(exampleModule('scripted')).toString('base64');
let nodes: ClusterNode[] = [];
// Conversations outside any protocol are recorded too, so node 1's conversation API shows what asker got.
const ENV = { CAXTON_STATE_CONVERSATION_LOG: 'all' };

beforeAll(async () => {
  nodes = await startTokenCluster(IDS, { env: ENV, aliveTimeoutMs: 30_000 });
}, 150_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
});

interface Conversation {
  state?: string;
  messages: AclMessage[];
  participants?: { name: string; state: string }[];
}

const codeOf = (m: AclMessage): string | undefined => (m.content as { error?: { code?: string } } | undefined)?.error?.code;

async function conversation(via: ClusterNode, id: string): Promise<Conversation> {
  const res = await api<Conversation>(via, 'GET', `/api/v1/conversations/${id}`);
  return res.status === 200 ? res.body : { messages: [] };
}

const toAsker = (c: Conversation): AclMessage[] =>
  c.messages.filter((m) => m.receiver === 'asker' || (Array.isArray(m.receiver) && m.receiver.includes('asker')));

/** Has asker (on `via`) send `script`'s messages; returns when asker confirmed it sent them all. */
async function askerSends(via: ClusterNode, script: unknown[]): Promise<void> {
  const carried = await api<any>(via, 'POST', '/api/v1/messages?wait_ms=10000', { performative: 'request', receiver: 'asker', content: { send: script } });
  expect(carried.status, JSON.stringify(carried.body)).toBe(200);
  expect(carried.body.replies?.[0]?.content?.sent, JSON.stringify(carried.body)).toEqual(script.map(() => 0));
}

/** The line `via` logged when it answered the waits on `gone` (waits-on-death.ts). */
function answeredLine(via: ClusterNode, gone: string, state: string): { time: string; agents: number; clients: number } | undefined {
  return via
    .output()
    .split('\n')
    .filter((l) => l.includes('answered NODE_FAILED'))
    .map((l) => JSON.parse(l) as { time: string; node: string; state: string; agents: number; clients: number })
    .find((l) => l.node === gone && l.state === state);
}

describe('agent waits when the node of the agent they await dies', () => {
  it('SIGKILL the node of an agent holding requests: each unanswered request gets one failure NODE_FAILED, an answered one none', { timeout: 90_000 }, async () => {
    const [home, victim] = nodes;
    for (const [name, node] of [
      ['asker', home.id],
      ['holder', victim.id],
    ]) {
      const deployed = await api<any>(home, 'POST', '/api/v1/agents', { name, module: b64, node });
      expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    }
    await waitUntil('holder known on node 1 as on node 2', 15_000, async () => {
      const listed = await api<any>(home, 'GET', '/api/v1/agents/holder');
      return listed.status === 200 && listed.body.node === victim.id && listed.body.state === 'running';
    });

    const run = `r${Date.now().toString(36)}`;
    const held = Array.from({ length: HELD }, (_, i) => `${run}-held-${i}`);
    const answered = `${run}-answered`;
    const agreed = `${run}-agreed`;
    const script = [
      // holder ignores a message without "send": these wait in its mailbox, acknowledged by node 2's link.
      ...held.map((conversation_id, i) => ({ performative: 'request', receiver: 'holder', conversation_id, content: { hold: i } })),
      // holder answers this one (its script's inform, then its own inform {"sent"}).
      { performative: 'request', receiver: 'holder', conversation_id: answered, content: { send: { performative: 'inform', content: { ok: true } } } },
      // fipa-request: holder agrees and never informs; the agree alone does not end asker's wait.
      { performative: 'request', receiver: 'holder', conversation_id: agreed, protocol: 'fipa-request', content: { send: { performative: 'agree', content: {} } } },
    ];
    await askerSends(home, script);
    const conversationOf = (id: string) => conversation(home, id);
    // holder's answers reached asker; every request left node 1 (and was acknowledged well before the kill).
    await waitUntil('holder answered and agreed', 15_000, async () => {
      const a = toAsker(await conversationOf(answered)).map((m) => m.performative);
      const g = toAsker(await conversationOf(agreed)).map((m) => m.performative);
      return a.includes('inform') && g.includes('agree');
    }).catch(async (error) => {
      console.log('answered:', JSON.stringify(await conversationOf(answered)), 'agreed:', JSON.stringify(await conversationOf(agreed)));
      throw error;
    });
    await new Promise((r) => setTimeout(r, 1000));

    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await waitUntil('node 1 declares node 2 dead', 30_000, () => firstChange(home, victim.id, 'dead', killedAt) !== undefined);
    const declaredAt = firstChange(home, victim.id, 'dead', killedAt)!;
    await waitUntil('a failure for every held request', 15_000, async () => {
      const views = await Promise.all(held.map(conversationOf));
      return views.every((c) => toAsker(c).some((m) => m.performative === 'failure'));
    });
    // Long enough for the link's own report (LINK_LOST) to have come, had it anything to report.
    await new Promise((r) => setTimeout(r, 3000));

    const failuresByCode: Record<string, number> = {};
    const problems: string[] = [];
    const check = (id: string, c: Conversation, expectFailure: boolean) => {
      const request = c.messages.find((m) => m.performative === 'request' && m.sender === 'asker');
      const failures = toAsker(c).filter((m) => m.performative === 'failure');
      for (const f of failures) failuresByCode[codeOf(f) ?? '?'] = (failuresByCode[codeOf(f) ?? '?'] ?? 0) + 1;
      if (!request) problems.push(`${id}: asker's request not recorded`);
      if (failures.length !== (expectFailure ? 1 : 0)) problems.push(`${id}: ${failures.length} failures`);
      const failure = failures[0];
      if (expectFailure && failure && request) {
        if (failure.sender !== 'holder' || codeOf(failure) !== 'NODE_FAILED' || failure.in_reply_to !== (request.reply_with ?? request.message_id)) {
          problems.push(`${id}: unexpected failure ${JSON.stringify(failure)}`);
        }
        const details = (failure.content as { error: { details?: Record<string, unknown> } }).error.details;
        if (details?.node !== victim.id) problems.push(`${id}: failure names node ${String(details?.node)}`);
      }
    };
    for (const id of held) check(id, await conversationOf(id), true);
    check(answered, await conversationOf(answered), false);
    const agreedView = await conversationOf(agreed);
    check(agreed, agreedView, true);

    const logged = answeredLine(home, victim.id, 'dead');
    expect(logged, 'node 1 logged the answers').toBeDefined();
    console.log(
      JSON.stringify({
        figure: 'agent_waits_on_death',
        killed: victim.id,
        requests_unanswered_at_kill: HELD + 1,
        failures_by_code: failuresByCode,
        declared_after_kill_ms: declaredAt - killedAt,
        failures_delivered_after_declared_ms: Date.parse(logged!.time) - declaredAt,
        logged: { agents: logged!.agents, clients: logged!.clients },
      }),
    );
    expect(problems).toEqual([]);
    expect(failuresByCode).toEqual({ NODE_FAILED: HELD + 1 });
    expect(logged!.agents).toBe(HELD + 1);
    // The fipa-request conversation ended with the failure (ended, then forgotten after its grace), not left `agreed`.
    expect(agreedView.state).not.toBe('agreed');
  });

  it('cluster leave of the node of a pinned agent holding requests: each gets one failure NODE_FAILED', { timeout: 90_000 }, async () => {
    const home = nodes[0];
    const leaving = nodes[2];
    const deployed = await api<any>(home, 'POST', '/api/v1/agents', { name: 'stayer', module: b64, node: leaving.id });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    await waitUntil('stayer known on node 1 as running on node 3', 15_000, async () => {
      const listed = await api<any>(home, 'GET', '/api/v1/agents/stayer');
      return listed.status === 200 && listed.body.node === leaving.id && listed.body.state === 'running';
    });
    const run = `l${Date.now().toString(36)}`;
    const held = Array.from({ length: HELD }, (_, i) => `${run}-held-${i}`);
    await askerSends(
      home,
      held.map((conversation_id, i) => ({ performative: 'request', receiver: 'stayer', conversation_id, content: { hold: i } })),
    );
    await new Promise((r) => setTimeout(r, 1000));

    const leftAt = Date.now();
    const left = await runCli(['cluster', 'leave', '--output', 'json'], { CAXTON_SERVER: leaving.url, CAXTON_API_KEY: leaving.apiKey() });
    expect(left.code, left.stderr).toBe(0);
    // The drain reports the pinned agent it leaves behind, whether agents run on workers or not.
    expect(JSON.parse(left.stdout).pinned).toContain('stayer');
    await waitUntil('node 1 sees node 3 left', 30_000, () => firstChange(home, leaving.id, 'left', leftAt) !== undefined);
    const declaredAt = firstChange(home, leaving.id, 'left', leftAt)!;
    await waitUntil('a failure for every held request', 15_000, async () =>
      (await Promise.all(held.map((id) => conversation(home, id)))).every((c) => toAsker(c).some((m) => m.performative === 'failure')),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const failures = (await Promise.all(held.map((id) => conversation(home, id)))).map((c) => toAsker(c).filter((m) => m.performative === 'failure'));
    const logged = answeredLine(home, leaving.id, 'left');
    console.log(
      JSON.stringify({
        figure: 'agent_waits_on_leave',
        left: leaving.id,
        requests_unanswered_at_leave: HELD,
        failures: failures.reduce((n, f) => n + f.length, 0),
        failures_delivered_after_left_ms: logged ? Date.parse(logged.time) - declaredAt : null,
      }),
    );
    for (const f of failures) {
      expect(f).toHaveLength(1);
      expect(f[0].sender).toBe('stayer');
      expect(codeOf(f[0])).toBe('NODE_FAILED');
      expect((f[0].content as { error: { message: string } }).error.message).toContain('left without handing the agent over');
    }
    expect(logged?.agents).toBe(HELD);
    // Both tests' answers, as /metrics counts them: HELD + 1 on the death, HELD on the leave.
    const metrics = await (await fetch(`${home.url}/metrics`, { headers: { authorization: `Bearer ${home.apiKey()}` } })).text();
    expect(metrics).toMatch(new RegExp(`caxton_remote_awaits_ended_total\\{outcome="failed"\\} ${2 * HELD + 1}\\b`));
    expect(metrics).toMatch(/caxton_remote_awaits_ended_total\{outcome="suppressed"\} 0\b/);
    // Nothing left behind: the answered request ended by its answer, every other by its failure.
    expect(metrics).toMatch(/^caxton_remote_awaits 0$/m);
  });
});

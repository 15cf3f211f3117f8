// A stock `serf agent` as a child process, for interop tests: started on loopback ports, queried through
// its RPC with the `serf` CLI, killed in afterAll. Every wait is bounded.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '../../helpers/free-port.ts';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SERF_BINARY = ['/usr/bin/serf', '/usr/local/bin/serf'].find((p) => existsSync(p));

export interface SerfMember {
  name: string;
  addr: string;
  port: number;
  tags: Record<string, string>;
  status: string;
  protocol: { min: number; max: number; version: number };
}

export interface SerfAgentOptions {
  node: string;
  bindPort: number;
  rpcPort: number;
  /** Base64 gossip key (`serf keygen`). */
  encrypt?: string;
  /** host:port to join at start. */
  join?: string;
}

export class SerfAgent {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly rpcAddr: string,
    readonly bindAddr: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(options: SerfAgentOptions): Promise<SerfAgent> {
    if (!SERF_BINARY) throw new Error('serf is not installed');
    const bindAddr = `127.0.0.1:${options.bindPort}`;
    const rpcAddr = `127.0.0.1:${options.rpcPort}`;
    const args = ['agent', `-node=${options.node}`, `-bind=${bindAddr}`, `-rpc-addr=${rpcAddr}`, '-log-level=debug'];
    if (options.encrypt) args.push(`-encrypt=${options.encrypt}`);
    if (options.join) args.push(`-join=${options.join}`);
    const agent = new SerfAgent(spawn(SERF_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] }), rpcAddr, bindAddr);
    await waitFor(async () => (await agent.members().catch(() => undefined)) !== undefined, 10_000, 'serf agent RPC');
    return agent;
  }

  /** Everything the agent logged so far (to explain a failure). */
  get log(): string {
    return this.output;
  }

  async members(): Promise<SerfMember[]> {
    const { stdout } = await run(SERF_BINARY!, ['members', `-rpc-addr=${this.rpcAddr}`, '-format=json'], { timeout: 5000 });
    return (JSON.parse(stdout) as { members: SerfMember[] }).members;
  }

  async join(address: string): Promise<string> {
    const { stdout } = await run(SERF_BINARY!, ['join', `-rpc-addr=${this.rpcAddr}`, address], { timeout: 10_000 });
    return stdout;
  }

  /** Waits until `name` has `status` in this agent's member list. */
  async waitForMember(name: string, status: string, timeoutMs = 10_000): Promise<SerfMember> {
    let found: SerfMember | undefined;
    await waitFor(
      async () => {
        found = (await this.members()).find((m) => m.name === name && m.status === status);
        return found !== undefined;
      },
      timeoutMs,
      `serf to list ${name} as ${status}`,
    );
    return found!;
  }

  /** Graceful leave (`serf leave`): the agent broadcasts its leave and exits. */
  async leave(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    await run(SERF_BINARY!, ['leave', `-rpc-addr=${this.rpcAddr}`], { timeout: 10_000 });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }

  /** Crash: SIGKILL, no leave. */
  kill(): Promise<void> {
    return this.stop();
  }

  get gossipPort(): number {
    return Number(this.bindAddr.split(':')[1]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  }
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export { freePort };

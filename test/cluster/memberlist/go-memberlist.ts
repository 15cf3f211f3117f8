// A plain HashiCorp memberlist node (go-node/main.go, Debian's memberlist 0.2.2 source built in GOPATH mode)
// as a child process, for interop tests. Built once per test run into a temp dir.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GO_SOURCE_PATH = '/usr/share/gocode';
const sourceDir = new URL('./go-node', import.meta.url).pathname;

export const GO_BINARY = ['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go'].find((p) => existsSync(p));
export const MEMBERLIST_SOURCE = existsSync(join(GO_SOURCE_PATH, 'src/github.com/hashicorp/memberlist/memberlist.go'));

/** Builds the node program; resolves with the path of the binary. */
export async function buildGoMemberlistNode(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-go-memberlist-'));
  const out = join(dir, 'memberlist-node');
  await run(GO_BINARY!, ['build', '-o', out, '.'], {
    cwd: sourceDir,
    env: { ...process.env, GO111MODULE: 'off', GOPATH: `${GO_SOURCE_PATH}:${dir}`, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    timeout: 120_000,
  });
  return out;
}

export interface GoNodeOptions {
  name: string;
  port: number;
  join?: string;
  delegate?: 'memberlist' | 'serf';
  key?: string;
}

export class GoMemberlistNode {
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static start(binary: string, o: GoNodeOptions): GoMemberlistNode {
    const args = ['-name', o.name, '-bind', `127.0.0.1:${o.port}`, '-delegate', o.delegate ?? 'memberlist'];
    if (o.join) args.push('-join', o.join);
    if (o.key) args.push('-key', o.key);
    return new GoMemberlistNode(spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get log(): string {
    return this.output;
  }

  /** The alive members as the node last printed them. */
  members(): string[] {
    const lines = this.output.split('\n').filter((l) => l.startsWith('members '));
    return lines.length ? lines[lines.length - 1].slice('members '.length).split(',') : [];
  }

  /** The -join outcome: 'joined N' or 'join-error TEXT', once printed. */
  joinOutcome(): string | undefined {
    return this.output.split('\n').find((l) => l.startsWith('joined ') || l.startsWith('join-error '));
  }

  async waitFor(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- go memberlist output ---\n${this.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

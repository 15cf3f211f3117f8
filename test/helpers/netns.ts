// Network namespaces for fault tests: a test builds its own topology (one bridge in a namespace of its own,
// one namespace per host joined to it by a veth pair, and one veth from the test's own namespace so the
// test reaches every host's API), then drops or loses real packets with iptables inside the hosts'
// namespaces, and delays them on a host's link with the delay line (test/helpers/delay-line.ts) where the
// kernel has no sch_netem. Names carry the process id and a random suffix, so parallel tests and other
// users of the machine never collide; the subnet is chosen at random in 10.100-249.x. Everything made is
// removed by cleanup(), which the test calls in afterAll and which also runs at process exit, so a failed
// or interrupted test leaves nothing behind. Needs root, iproute2 and iptables: netnsUnavailable() says
// why not, and tests skip loudly with that reason.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export const IP_BINARY = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((p) => existsSync(p));
export const IPTABLES_BINARY = ['/usr/sbin/iptables', '/sbin/iptables', '/usr/bin/iptables'].find((p) => existsSync(p));

/** Why namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(options: { iptables?: boolean } = {}): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  if (!IP_BINARY) return 'iproute2 (ip) is not installed';
  if (options.iptables && !IPTABLES_BINARY) return 'iptables is not installed';
  const probe = `cxp${process.pid % 100000}${Math.random().toString(36).slice(2, 6)}`;
  try {
    execFileSync(IP_BINARY, ['netns', 'add', probe], { stdio: 'pipe' });
    if (options.iptables) execFileSync(IP_BINARY, ['netns', 'exec', probe, IPTABLES_BINARY!, '-S'], { stdio: 'pipe' });
  } catch (error) {
    return `cannot create network namespaces: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    try {
      execFileSync(IP_BINARY, ['netns', 'del', probe], { stdio: 'pipe' });
    } catch {
      // Never created.
    }
  }
  return null;
}

export interface NsHost {
  name: string;
  /** The namespace's name. */
  ns: string;
  /** Its address on the bridge. */
  ip: string;
}

export interface NsChild {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

interface DelayLine {
  send(command: string): Promise<void>;
}

const live = new Set<NetnsLab>();
process.once('exit', () => {
  for (const lab of live) lab.cleanupSync();
});

export class NetnsLab {
  /** Unique per lab: prefixes every namespace and interface name (interface names stay under 16 bytes). */
  readonly prefix: string;
  readonly subnet: string;
  /** The test's own address on the bridge: every host's API is reachable from the test at HOST_IP. */
  readonly testIp: string;
  readonly hosts: NsHost[] = [];
  private readonly bridgeNs: string;
  private readonly rootLink: string;
  private readonly namespaces: string[] = [];
  private readonly children: NsChild[] = [];
  private readonly delayLineBinary: string | undefined;
  private readonly delayLines = new Map<string, DelayLine>();
  private cleaned = false;

  /**
   * `reachFromTest` (default true): a veth from the test's own namespace onto the bridge, at testIp, so the
   * test talks to the hosts directly. Off, nothing of the topology touches the test's namespace (an mDNS
   * test must not hear or be heard by the machine's own responders).
   * `delayLine`: the built delay line (buildDelayLine()); each host's link to the bridge then runs through
   * one, so delay(host, ms) can hold its frames, and every host sends whole frames (no offloads).
   */
  constructor(options: { reachFromTest?: boolean; delayLine?: string } = {}) {
    this.delayLineBinary = options.delayLine;
    this.prefix = `cx${process.pid % 10000}${Math.random().toString(36).slice(2, 5)}`;
    this.subnet = `10.${100 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}`;
    this.testIp = `${this.subnet}.254`;
    this.bridgeNs = `${this.prefix}br`;
    this.rootLink = `${this.prefix}t`;
    live.add(this);
    try {
      this.addNamespace(this.bridgeNs);
      this.ip('-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
      this.ip('-n', this.bridgeNs, 'link', 'set', 'br0', 'up');
      if (options.reachFromTest ?? true) {
        this.ip('link', 'add', this.rootLink, 'type', 'veth', 'peer', 'name', 'pt', 'netns', this.bridgeNs);
        this.ip('-n', this.bridgeNs, 'link', 'set', 'pt', 'master', 'br0');
        this.ip('-n', this.bridgeNs, 'link', 'set', 'pt', 'up');
        this.ip('addr', 'add', `${this.testIp}/24`, 'dev', this.rootLink);
        this.ip('link', 'set', this.rootLink, 'up');
        // Frames from the test cross the hosts' delay lines too: they must be whole (see addHost).
        if (this.delayLineBinary) execFileSync(this.delayLineBinary, ['whole-frames', this.rootLink], { stdio: 'pipe', timeout: 10_000 });
      }
    } catch (error) {
      this.cleanupSync();
      throw error;
    }
  }

  ip(...args: string[]): string {
    return execFileSync(IP_BINARY!, args, { stdio: 'pipe', timeout: 10_000 }).toString();
  }

  /** Runs a command inside a host's namespace to completion. */
  exec(host: NsHost, command: string, args: string[]): string {
    return execFileSync(IP_BINARY!, ['netns', 'exec', host.ns, command, ...args], { stdio: 'pipe', timeout: 10_000 }).toString();
  }

  /**
   * A namespace with one veth on the bridge, at SUBNET.<number>/24 (the next free one unless given);
   * `multicastRoute` adds the default multicast route some programs send on (Serf's mDNS).
   */
  addHost(name: string, options: { number?: number; multicastRoute?: boolean } = {}): NsHost {
    const index = options.number ?? Math.max(0, ...this.hosts.map((h) => Number(h.ip.split('.')[3]))) + 1;
    const host = { name, ns: `${this.prefix}${name}`, ip: `${this.subnet}.${index}` };
    this.addNamespace(host.ns);
    this.ip('link', 'add', 'v0', 'netns', host.ns, 'type', 'veth', 'peer', 'name', `p${index}`, 'netns', this.bridgeNs);
    this.ip('-n', this.bridgeNs, 'link', 'set', `p${index}`, 'up');
    if (this.delayLineBinary) {
      // p<index> -- delay line -- q<index> == r<index> on the bridge.
      this.ip('-n', this.bridgeNs, 'link', 'add', `q${index}`, 'type', 'veth', 'peer', 'name', `r${index}`);
      this.ip('-n', this.bridgeNs, 'link', 'set', `r${index}`, 'master', 'br0');
      this.ip('-n', this.bridgeNs, 'link', 'set', `q${index}`, 'up');
      this.ip('-n', this.bridgeNs, 'link', 'set', `r${index}`, 'up');
      execFileSync(IP_BINARY!, ['netns', 'exec', host.ns, this.delayLineBinary, 'whole-frames', 'v0'], { stdio: 'pipe', timeout: 10_000 });
      this.delayLines.set(host.ns, this.startDelayLine(`p${index}`, `q${index}`));
    } else {
      this.ip('-n', this.bridgeNs, 'link', 'set', `p${index}`, 'master', 'br0');
    }
    this.ip('-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'v0');
    this.ip('-n', host.ns, 'link', 'set', 'v0', 'up');
    this.ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    if (options.multicastRoute) this.ip('-n', host.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'v0');
    this.hosts.push(host);
    return host;
  }

  /** Starts a process inside a host's namespace; it is killed by cleanup() if still running. */
  spawn(host: NsHost, command: string, args: string[], env: Record<string, string> = {}): NsChild {
    const child = spawn(IP_BINARY!, ['netns', 'exec', host.ns, command, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const entry = { child, output: () => output, exited };
    this.children.push(entry);
    return entry;
  }

  /**
   * Cuts every packet between the two groups, both ways (`oneWay`: only what `a` sends to `b` is lost, as a
   * broken route or a one-sided firewall does). The test's own address is never cut.
   */
  partition(a: NsHost[], b: NsHost[], oneWay = false): void {
    for (const from of a) for (const to of b) this.drop(from, to);
    if (!oneWay) for (const from of b) for (const to of a) this.drop(from, to);
  }

  /** Drops what `from` sends to `to` (at `to`, on the way in; and at `from`, on the way out). */
  drop(from: NsHost, to: NsHost): void {
    this.exec(to, IPTABLES_BINARY!, ['-A', 'INPUT', '-s', from.ip, '-j', 'DROP']);
    this.exec(from, IPTABLES_BINARY!, ['-A', 'OUTPUT', '-d', to.ip, '-j', 'DROP']);
  }

  /** Removes every drop rule. */
  heal(): void {
    for (const host of this.hosts) {
      this.exec(host, IPTABLES_BINARY!, ['-F', 'INPUT']);
      this.exec(host, IPTABLES_BINARY!, ['-F', 'OUTPUT']);
    }
  }

  /**
   * Random loss without netem: each packet `from` sends to `to` is dropped at `to` with probability
   * `percent`/100 (iptables' statistic match), so it works on kernels without sch_netem. heal() removes it.
   */
  lose(from: NsHost, to: NsHost, percent: number): void {
    const probability = (percent / 100).toFixed(4);
    this.exec(to, IPTABLES_BINARY!, ['-A', 'INPUT', '-s', from.ip, '-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP']);
  }

  /**
   * Holds every frame to and from `host` for `ms` (so its round trip to any other host grows by 2 × ms); 0
   * ends the delay. Needs a lab made with `delayLine`. Resolves once the line has taken the setting.
   */
  async delay(host: NsHost, ms: number): Promise<void> {
    const line = this.delayLines.get(host.ns);
    if (!line) throw new Error(`host ${host.name} has no delay line: make the NetnsLab with { delayLine }`);
    await line.send(`delay ${ms}`);
  }

  private startDelayLine(a: string, b: string): DelayLine {
    const child = spawn(IP_BINARY!, ['netns', 'exec', this.bridgeNs, this.delayLineBinary!, a, b], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const replies: Array<(line: string) => void> = [];
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      pending += d.toString();
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        replies.shift()?.(line);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    this.children.push({ child, output: () => output, exited });
    const next = (): Promise<string> =>
      Promise.race([
        new Promise<string>((resolve) => replies.push(resolve)),
        exited.then((code) => Promise.reject(new Error(`delay line ${a}-${b} exited (${code}): ${output}`))),
      ]);
    const ready = next();
    ready.catch(() => {}); // an early exit is reported by the next send
    return {
      async send(command: string): Promise<void> {
        if ((await ready) !== 'ready') throw new Error(`delay line ${a}-${b} did not start: ${output}`);
        const reply = next();
        child.stdin!.write(`${command}\n`);
        if ((await reply) !== 'ok') throw new Error(`delay line ${a}-${b} refused '${command}': ${output}`);
      },
    };
  }

  /** Stops every process started here (SIGTERM, then SIGKILL after graceMs) and removes everything made. */
  async cleanup(graceMs = 3000): Promise<void> {
    await Promise.all(
      this.children.map(
        ({ child, exited }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
            void exited.then(() => (clearTimeout(timer), resolve()));
            child.kill('SIGTERM');
          }),
      ),
    );
    this.cleanupSync();
  }

  /** The synchronous part (also run at process exit): kill what is left, delete links and namespaces. */
  cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    live.delete(this);
    for (const { child } of this.children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    try {
      execFileSync(IP_BINARY!, ['link', 'del', this.rootLink], { stdio: 'pipe' });
    } catch {
      // Gone with its peer, or never made.
    }
    for (const ns of [...this.namespaces].reverse()) {
      try {
        execFileSync(IP_BINARY!, ['netns', 'del', ns], { stdio: 'pipe' });
      } catch {
        // Already gone.
      }
    }
  }

  private addNamespace(ns: string): void {
    this.ip('netns', 'add', ns);
    this.namespaces.push(ns);
  }
}

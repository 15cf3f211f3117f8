// Everything the runtime keeps about one agent of this node, across instances: spec, module, state,
// mailbox, stats, logs, trap history. The instance itself is replaceable (a trap, an upgrade); this is not.
import type { AclMessage } from '../messaging/message.ts';
import type { AgentSpec, AgentState, AgentStats } from './agent-types.ts';
import type { AgentInstance } from './agent-instance.ts';
import type { AgentLogLevel, HostBindings, InstanceHost, TimerScheduler } from './host-imports.ts';
import { LogRing } from './log-ring.ts';
import type { CompiledAgentModule } from './module-cache.ts';
import { RingQueue } from './ring-queue.ts';
import { SendBucket } from './send-bucket.ts';
import type { RuntimeLimits } from './runtime-defaults.ts';

/** A timer that fired, waiting its turn in the mailbox behind the messages that arrived before it. */
export class FiredTimer {
  constructor(
    readonly host: InstanceHost,
    readonly timerId: number,
  ) {}
}

export type MailboxItem = AclMessage | FiredTimer;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The runtime services a slot's instances call back into. */
export interface SlotOwner {
  readonly clock: Clock;
  readonly limits: RuntimeLimits;
  readonly timers: TimerScheduler;
  appendLog(slot: AgentSlot, level: AgentLogLevel, message: string): void;
  permissionDenied(slot: AgentSlot, what: string): void;
  timerFired(slot: AgentSlot, host: InstanceHost, timerId: number): void;
}

export class AgentSlot {
  readonly name: string;
  spec: AgentSpec;
  sha256: string;
  version: number;
  state: AgentState = 'deploying';
  /** Set once the module is loaded; null only while deploying. */
  compiled: CompiledAgentModule | null = null;
  /** The live instance; null after a trap until the next item needs one, and when stopped or failed. */
  instance: AgentInstance | null = null;
  /** Messages and fired timers in arrival order; deliver() bounds it by spec.limits.mailbox. */
  readonly mailbox = new RingQueue<MailboxItem>();
  readonly stats: Omit<AgentStats, 'mailbox_depth' | 'memory_pages'> = {
    invocations: 0,
    traps: 0,
    traps_by_reason: {},
    fuel_used: 0,
    messages_in: 0,
    messages_out: 0,
    last_error: null,
  };
  readonly logs: LogRing;
  /** Times (clock ms) of the most recent traps, at most RuntimeLimits.maxTraps of them. */
  trapTimes: number[] = [];
  /** In the runtime's ready queue: keeps an agent from being queued twice. */
  scheduled = false;
  /** Its last visit was heavy (ready-scheduler.ts): it waits in the heavy queue, behind light agents. */
  heavy = false;
  /** stop() was called: new messages are refused, the queued ones are handled, then agent_shutdown. */
  stopping = false;
  stopWaiters: (() => void)[] = [];
  readonly createdAt: string;
  updatedAt: string;
  /** Tool calls issued and not yet answered (bounds call_tool). */
  pendingToolCalls = 0;
  /** This agent's send rate: shared by its instances, so a trap or a restart does not refill it. */
  readonly sends: SendBucket;
  /** This agent's log rate (agents.log_rate): the same token bucket, over the lines its instances log. */
  private readonly logLines: SendBucket;
  /** Lines dropped over the log rate since the last one kept. */
  private droppedLogLines = 0;
  private toolCallSeq = 0;
  private readonly owner: SlotOwner;

  constructor(owner: SlotOwner, spec: AgentSpec, sha256: string, version: number, logRingSize: number) {
    this.owner = owner;
    this.name = spec.name;
    this.spec = spec;
    this.sha256 = sha256;
    this.version = version;
    this.logs = new LogRing(logRingSize);
    this.sends = new SendBucket(owner.limits.sendRate, owner.limits.sendBurst, () => owner.clock.now());
    this.logLines = new SendBucket(owner.limits.logRate, owner.limits.logBurst, () => owner.clock.now());
    this.createdAt = new Date(owner.clock.now()).toISOString();
    this.updatedAt = this.createdAt;
  }

  /** Messages from outside are taken while running, during an upgrade's switch and while deploying. */
  acceptsMessages(): boolean {
    return !this.stopping && (this.state === 'running' || this.state === 'draining' || this.state === 'deploying');
  }

  /** Has something the scheduler should run now. */
  hasWork(): boolean {
    if (this.state === 'deploying' || this.state === 'failed' || this.state === 'stopped') return false;
    return this.mailbox.length > 0 || this.stopping;
  }

  /** A line the agent logged: kept if under its log rate (after a line counting those dropped), else counted. */
  private agentLog(level: AgentLogLevel, message: string): void {
    if (!this.logLines.take()) {
      this.droppedLogLines++;
      return;
    }
    if (this.droppedLogLines > 0) {
      this.owner.appendLog(this, 'warn', `${this.droppedLogLines} log lines dropped: over this node's agents.log_rate`);
      this.droppedLogLines = 0;
    }
    this.owner.appendLog(this, level, message);
  }

  /** The host bindings of a new instance; `spec` is the one that instance runs under (an upgrade's new spec). */
  bindingsFor(spec: AgentSpec): HostBindings {
    const owner = this.owner;
    return {
      agentName: this.name,
      limits: owner.limits,
      timers: owner.timers,
      now: () => owner.clock.now(),
      log: (level, message) => this.agentLog(level, message),
      toolGranted: (server, tool) => {
        const grant = Object.hasOwn(spec.tools, server) ? spec.tools[server] : undefined;
        return grant === '*' || (Array.isArray(grant) && grant.includes(tool));
      },
      permissionDenied: (what) => owner.permissionDenied(this, what),
      nextToolCallId: () => (this.toolCallSeq = this.toolCallSeq >= 0x7fffffff ? 1 : this.toolCallSeq + 1),
      pendingToolCalls: () => this.pendingToolCalls,
      timerFired: (host, timerId) => owner.timerFired(this, host, timerId),
      sends: this.sends,
    };
  }
}

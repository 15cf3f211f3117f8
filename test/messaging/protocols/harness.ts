// A router with the conversation tracker, fake agents, a client inbox and a clock the test moves by hand.
import { LocalAgentDirectory } from '../../../src/messaging/agent-directory.ts';
import { ClientInbox } from '../../../src/messaging/client-inbox.ts';
import type { SetTimer } from '../../../src/messaging/client-inbox.ts';
import type { ConversationEvent } from '../../../src/messaging/conversations/conversation-events.ts';
import type { ConversationTrackerOptions } from '../../../src/messaging/conversations/conversation-tracker.ts';
import { ConversationTracker } from '../../../src/messaging/conversations/conversation-tracker.ts';
import type { AclMessage, MessageInput } from '../../../src/messaging/message.ts';
import { Router } from '../../../src/messaging/router.ts';
import { FakeAgents, FakeDeadLetters } from '../fakes.ts';

/** Timers fire only when the test advances time, in deadline order, with `now` set to each deadline. */
export class FakeClock {
  now = Date.parse('2030-01-01T00:00:00.000Z');
  readonly timers = new Set<{ at: number; fire: () => void }>();
  readonly setTimer: SetTimer = (ms, fire) => {
    const timer = { at: this.now + ms, fire };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  };

  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let next: { at: number; fire: () => void } | undefined;
      for (const timer of this.timers) if (timer.at <= target && (next === undefined || timer.at < next.at)) next = timer;
      if (next === undefined) break;
      this.timers.delete(next);
      this.now = Math.max(this.now, next.at);
      next.fire();
    }
    this.now = target;
  }

  /** RFC 3339 time `ms` from now. */
  in(ms: number): string {
    return new Date(this.now + ms).toISOString();
  }
}

let sequence = 0;

export function setup(options: Omit<ConversationTrackerOptions, 'now' | 'setTimer' | 'observer'> = {}) {
  const clock = new FakeClock();
  const directory = new LocalAgentDirectory('node-a');
  const agents = new FakeAgents();
  const deadLetters = new FakeDeadLetters();
  const clients = new ClientInbox({ setTimer: clock.setTimer });
  const events: ConversationEvent[] = [];
  const tracker = new ConversationTracker({
    now: () => clock.now,
    setTimer: clock.setTimer,
    observer: { onUpdate: (event) => events.push(event) },
    ...options,
  });
  const router = new Router({ directory, localAgents: agents, clients, deadLetters, conversations: tracker });
  const deploy = (name: string, capabilities: string[] = [], node = 'node-a') => {
    directory.upsert(name, node, capabilities);
    if (node === 'node-a') agents.add(name);
  };
  /** Stamps and routes a message; the conversation is `c1` unless given. */
  const send = (input: MessageInput & { sender: string }): AclMessage => {
    sequence++;
    const message: AclMessage = { conversation_id: 'c1', message_id: `m${sequence}`, ...input };
    router.route(message);
    return message;
  };
  /** Everything in an agent's mailbox, emptied. */
  const take = (name: string): AclMessage[] => agents.mailbox(name).splice(0);
  return { clock, directory, agents, deadLetters, clients, events, tracker, router, deploy, send, take };
}

export interface ErrorContent {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export const errorOf = (message: AclMessage | undefined) => (message?.content as ErrorContent | undefined)?.error;

export const performatives = (messages: readonly AclMessage[]) => messages.map((m) => m.performative);

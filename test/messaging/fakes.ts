// Test doubles for the router's ports: agents with bounded FIFO mailboxes, a dead-letter list, a manual clock.
import type { DeliveryOutcome, LocalAgents } from '../../src/messaging/delivery.ts';
import type { AclMessage, MessageInput } from '../../src/messaging/message.ts';
import type { DeadLetterSink } from '../../src/messaging/dead-letter-sink.ts';
import type { SetTimer } from '../../src/messaging/client-inbox.ts';

export class FakeAgents implements LocalAgents {
  readonly mailboxes = new Map<string, AclMessage[]>();
  readonly capacity = new Map<string, number>();
  readonly stopped = new Set<string>();

  add(name: string, capacity = Infinity): this {
    this.mailboxes.set(name, []);
    this.capacity.set(name, capacity);
    return this;
  }

  mailbox(name: string): AclMessage[] {
    return this.mailboxes.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.mailboxes.has(name);
  }

  deliver(message: AclMessage, to: string): DeliveryOutcome {
    const mailbox = this.mailboxes.get(to);
    if (!mailbox) return 'not_found';
    if (this.stopped.has(to)) return 'unavailable';
    if (mailbox.length >= (this.capacity.get(to) ?? Infinity)) return 'mailbox_full';
    mailbox.push(message);
    return 'queued';
  }
}

export class FakeDeadLetters implements DeadLetterSink {
  readonly records: { message: AclMessage; reason: string; receiver?: string }[] = [];
  record(message: AclMessage, reason: string, receiver?: string): void {
    this.records.push({ message, reason, receiver });
  }
}

export class ManualTimers {
  readonly pending = new Set<{ ms: number; fire: () => void }>();
  readonly setTimer: SetTimer = (ms, fire) => {
    const timer = { ms, fire };
    this.pending.add(timer);
    return () => this.pending.delete(timer);
  };
  fireAll(): void {
    for (const timer of [...this.pending]) {
      this.pending.delete(timer);
      timer.fire();
    }
  }
}

let counter = 0;
/** A message as the host stamps it. */
export function stamped(input: MessageInput & { sender: string }): AclMessage {
  counter++;
  return { conversation_id: `conv-${counter}`, message_id: `msg-${counter}`, ...input };
}

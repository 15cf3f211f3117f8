// A ConversationTracker on a fake clock, recording its events and what it sends, and the messages of a
// fipa-request between `a` and `b`: what the tracker's unit tests build on.
import type { ConversationEvent } from '../../../src/messaging/conversations/conversation-events.ts';
import { ConversationTracker, type ConversationTrackerOptions } from '../../../src/messaging/conversations/conversation-tracker.ts';
import type { AclMessage, MessageInput } from '../../../src/messaging/message.ts';
import { FakeClock } from '../protocols/harness.ts';

export function tracker(options: Pick<ConversationTrackerOptions, 'maxConversations' | 'maxParticipants' | 'maxPerInitiator' | 'maxParticipantsPerInitiator' | 'idleMs' | 'endedGraceMs'> = {}) {
  const clock = new FakeClock();
  const events: ConversationEvent[] = [];
  const sent: AclMessage[] = [];
  // One initiator (`a`) fills small trackers in these tests: no share per initiator unless a test asks for one.
  const t = new ConversationTracker({
    now: () => clock.now,
    setTimer: clock.setTimer,
    observer: { onUpdate: (e) => events.push(e) },
    maxPerInitiator: Infinity,
    maxParticipantsPerInitiator: Infinity,
    ...options,
  });
  t.bindHostRoute((m) => sent.push(m));
  return { t, clock, events, sent };
}

let n = 0;
export function msg(input: MessageInput & { sender: string; conversation_id: string }): AclMessage {
  return { message_id: `m${++n}`, ...input };
}

export const request = (id: string, extra: Partial<MessageInput> = {}) =>
  msg({ performative: 'request', sender: 'a', receiver: 'b', protocol: 'fipa-request', conversation_id: id, ...extra });

export const inform = (id: string) => msg({ performative: 'inform', sender: 'b', receiver: 'a', protocol: 'fipa-request', conversation_id: id });

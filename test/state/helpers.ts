// Shared by the state tests: a fresh data dir per test and a minimal stamped message.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AclMessage } from '../../src/messaging/message.ts';
import type { AgentSpec } from '../../src/node/services.ts';

export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'caxton-state-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function message(conversation: string, n: number, extra: Partial<AclMessage> = {}): AclMessage {
  return {
    performative: 'inform',
    sender: 'alice',
    receiver: 'bob',
    content: { n },
    conversation_id: conversation,
    message_id: `${conversation}-${n}`,
    ...extra,
  };
}

export function spec(name: string, extra: Partial<AgentSpec> = {}): AgentSpec {
  return { name, capabilities: ['echo'], tools: {}, limits: { memory_pages: 16, fuel: 1000, mailbox: 8 }, ...extra };
}

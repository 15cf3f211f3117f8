// An InstanceHost over a plain WebAssembly.Memory, for fuzzing the host calls without an agent module.
import type { HostBindings } from '../../src/agents/host-imports.ts';
import { InstanceHost } from '../../src/agents/host-imports.ts';
import { RUNTIME_DEFAULTS } from '../../src/agents/runtime-defaults.ts';

export function fuzzHost(pages = 1, name = 'fuzz-agent'): { host: InstanceHost; memory: WebAssembly.Memory; logs: string[] } {
  const logs: string[] = [];
  let toolCallId = 0;
  const bindings: HostBindings = {
    agentName: name,
    limits: { ...RUNTIME_DEFAULTS },
    timers: { set: () => 0, clear() {} },
    now: () => 1_700_000_000_000,
    log: (_level, message) => void logs.push(message),
    toolGranted: (server) => server === 'granted',
    permissionDenied() {},
    nextToolCallId: () => ++toolCallId,
    pendingToolCalls: () => 0,
    timerFired() {},
    sends: { take: () => true },
  };
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const host = new InstanceHost(bindings);
  host.attachMemory(memory);
  return { host, memory, logs };
}

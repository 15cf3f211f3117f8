// The SDK's probe agent (sdk/assemblyscript/tests/probe.ts), built once and cached like the examples.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { buildAssemblyScriptAgent, repoRoot, sdkDir } from '../../scripts/build-examples.ts';
import { MiniHost, type AclMessage, type Json } from './mini-host.ts';

let built: Promise<Uint8Array> | undefined;

export function probeBytes(): Promise<Uint8Array> {
  built ??= buildAssemblyScriptAgent(join(sdkDir, 'tests/probe.ts'), join(repoRoot, 'examples/build/sdk-tests/probe.wasm'))
    .then((path) => readFileSync(path));
  return built;
}

export async function probeHost(name = 'probe-agent'): Promise<MiniHost> {
  return MiniHost.load(await probeBytes(), name);
}

/** Sends the probe a request with `content` and returns the content of its one reply. */
export function ask(host: MiniHost, content: AclMessage): Json {
  const { result, replies } = host.exchange({ performative: 'request', content });
  if (result !== 0 || replies.length !== 1) throw new Error(`probe answered ${result} with ${replies.length} replies`);
  return replies[0].content;
}

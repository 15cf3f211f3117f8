// `df`, the directory facilitator (messages.md, System agents): query-ref {"capability": "x"} is answered
// with inform {"agents": [...]}, every agent advertising x cluster-wide, from the same directory the router
// resolves `capability:x` with. Anything else gets not-understood INVALID_MESSAGE saying what df accepts
// (JADE's DF also answers not-understood to what it cannot parse).
import { randomUUID } from 'node:crypto';
import type { AgentDirectory } from '../agent-directory.ts';
import type { MessageSink } from '../delivery.ts';
import type { SystemAgentHandler } from '../router-ports.ts';
import { informReply, queryRefArgument } from './system-reply.ts';

export const DF_NAME = 'df';

export interface DirectoryFacilitatorOptions {
  directory: Pick<AgentDirectory, 'byCapability'>;
  /** Where the answers go: the router. */
  sink: MessageSink;
  newId?: () => string;
}

export function directoryFacilitator(options: DirectoryFacilitatorOptions): SystemAgentHandler {
  const { directory, sink } = options;
  const newId = options.newId ?? randomUUID;
  return (message) => {
    const capability = queryRefArgument(message, DF_NAME, 'capability', (reply) => sink.route(reply));
    if (capability === undefined) return;
    sink.route(informReply(message, DF_NAME, { agents: [...directory.byCapability(capability)] }, newId()));
  };
}

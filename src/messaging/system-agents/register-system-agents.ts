// Plugs `df` and `ams` into a router; both answer through that same router.
import type { AgentDirectory } from '../agent-directory.ts';
import type { Router } from '../router.ts';
import type { AgentStatusLookup } from './agent-management.ts';
import { AMS_NAME, agentManagement } from './agent-management.ts';
import { DF_NAME, directoryFacilitator } from './directory-facilitator.ts';

export interface SystemAgentDependencies {
  /** Cluster-wide, the one the router uses. */
  directory: Pick<AgentDirectory, 'byCapability'>;
  lookupAgent: AgentStatusLookup;
  newId?: () => string;
}

export function registerSystemAgents(
  router: Pick<Router, 'registerSystemAgent' | 'route'>,
  dependencies: SystemAgentDependencies,
): void {
  const { directory, lookupAgent, newId } = dependencies;
  router.registerSystemAgent(DF_NAME, directoryFacilitator({ directory, sink: router, newId }));
  router.registerSystemAgent(AMS_NAME, agentManagement({ lookupAgent, sink: router, newId }));
}

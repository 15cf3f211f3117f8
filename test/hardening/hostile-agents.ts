// The hostile agents of the soak test. Filled in with the agent hardening (spinner at max fuel, memory hog,
// self-flood, neighbour flood, trap storm); until then the soak runs the hostile clients only.
import type { ApiCall } from '../helpers/api-client.ts';

/** Node flags the soak runs with (the ceilings the hostile agents run into). */
export const HOSTILE_NODE_ARGS: string[] = [];

export async function deployHostileAgents(_admin: { api: ApiCall }): Promise<void> {}

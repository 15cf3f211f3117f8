// An agent spec as a client wrote it → the spec the node stores and enforces: defaults filled in, every
// value checked, the offending field named. The API checks shapes too; this is the node's own guard, so
// tests and future callers (registry gossip) cannot slip a bad spec past it.
import { invalidArgument } from '../errors.ts';
import { AGENT_NAME_PATTERN } from '../messaging/message.ts';
import type { AgentLimits, AgentSpec, AgentSpecInput, ToolGrants } from './services.ts';

/** Capability names: what `capability:<cap>` addresses; same alphabet as agent names, a little longer. */
const CAPABILITY_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,127}$/;
const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/** wasm32 cannot address more than 65,536 pages. */
const MAX_MEMORY_PAGES = 65_536;
const MAX_MAILBOX = 1_000_000;
const MAX_CAPABILITIES = 64;
/**
 * A spec travels in every registry gossip entry and is read on each `call_tool`: a grant is bounded like the
 * capabilities. 64 servers is more than any node configures; 1,024 names per server is more than any MCP server
 * lists in practice (a server with more is granted with "*").
 */
const MAX_TOOL_SERVERS = 64;
const MAX_TOOLS_PER_SERVER = 1_024;

/** What this node lets a deployer ask for (config agents.max_fuel, agents.max_memory_pages), and names it keeps. */
export interface AgentCeilings {
  max_fuel: number;
  max_memory_pages: number;
  /** Names a deploy may not take: the system agents (`df`, `ams`), which shadow any agent of that name. */
  reservedNames?: (name: string) => boolean;
}

const NO_CEILINGS: AgentCeilings = { max_fuel: Number.MAX_SAFE_INTEGER, max_memory_pages: MAX_MEMORY_PAGES };

export function normalizeAgentSpec(input: AgentSpecInput, defaults: AgentLimits, ceilings: AgentCeilings = NO_CEILINGS): AgentSpec {
  if (typeof input.name !== 'string' || !AGENT_NAME_PATTERN.test(input.name)) {
    throw invalidArgument('name', `name: "${String(input.name)}" is not a valid agent name (^[a-z0-9][a-z0-9._-]{0,62}$)`);
  }
  if (ceilings.reservedNames?.(input.name)) {
    throw invalidArgument('name', `name: "${input.name}" is reserved for a system agent of this node; choose another name`);
  }
  const capabilities = input.capabilities ?? [];
  if (!Array.isArray(capabilities) || capabilities.length > MAX_CAPABILITIES) {
    throw invalidArgument('capabilities', `capabilities: a list of at most ${MAX_CAPABILITIES} names`);
  }
  for (const capability of capabilities) {
    if (typeof capability !== 'string' || !CAPABILITY_PATTERN.test(capability)) {
      throw invalidArgument('capabilities', `capabilities: "${String(capability)}" is not a valid capability name`);
    }
  }
  const spec: AgentSpec = {
    name: input.name,
    capabilities: [...new Set(capabilities)],
    tools: normalizeTools(input.tools ?? {}),
    limits: {
      memory_pages: positiveInteger(
        'limits.memory_pages',
        input.limits?.memory_pages ?? defaults.memory_pages,
        Math.min(ceilings.max_memory_pages, MAX_MEMORY_PAGES),
        'agents.max_memory_pages',
      ),
      fuel: positiveInteger('limits.fuel', input.limits?.fuel ?? defaults.fuel, Math.min(ceilings.max_fuel, Number.MAX_SAFE_INTEGER), 'agents.max_fuel'),
      mailbox: positiveInteger('limits.mailbox', input.limits?.mailbox ?? defaults.mailbox, MAX_MAILBOX),
    },
  };
  if (input.node !== undefined) {
    if (typeof input.node !== 'string' || input.node.length === 0) throw invalidArgument('node', 'node: a node id');
    spec.node = input.node;
  }
  if (input.failover !== undefined) {
    if (input.failover !== 'move' && input.failover !== 'wait') throw invalidArgument('failover', `failover: "move" or "wait", got ${JSON.stringify(input.failover)}`);
    spec.failover = input.failover;
  }
  return spec;
}

/** `ceilingKey`: the node setting that caps the field, named in the error so a deployer knows whom to ask. */
function positiveInteger(field: string, value: unknown, max: number, ceilingKey?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    const cap = ceilingKey ? ` (this node's ${ceilingKey})` : '';
    throw invalidArgument(field, `${field}: expected an integer from 1 to ${max}${cap}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function normalizeTools(tools: ToolGrants): ToolGrants {
  if (typeof tools !== 'object' || tools === null || Array.isArray(tools)) {
    throw invalidArgument('tools', 'tools: an object mapping server names to a list of tools or "*"');
  }
  const servers = Object.entries(tools);
  if (servers.length > MAX_TOOL_SERVERS) {
    throw invalidArgument('tools', `tools: at most ${MAX_TOOL_SERVERS} servers, got ${servers.length}`);
  }
  const normalized: [string, ToolGrants[string]][] = [];
  for (const [server, grant] of servers) {
    if (!TOOL_NAME_PATTERN.test(server)) throw invalidArgument('tools', `tools: "${server}" is not a valid server name`);
    if (grant === '*') {
      normalized.push([server, '*']);
    } else if (Array.isArray(grant) && grant.every((t) => typeof t === 'string' && TOOL_NAME_PATTERN.test(t))) {
      const names = [...new Set(grant)];
      if (names.length > MAX_TOOLS_PER_SERVER) {
        throw invalidArgument(`tools.${server}`, `tools.${server}: at most ${MAX_TOOLS_PER_SERVER} tool names (grant "*" for all), got ${names.length}`);
      }
      normalized.push([server, names]);
    } else {
      throw invalidArgument(`tools.${server}`, `tools.${server}: a list of tool names or "*"`);
    }
  }
  // fromEntries defines own properties: a server named "__proto__" stays a grant instead of becoming the
  // object's prototype (where the grant vanished from every lookup).
  return Object.fromEntries(normalized);
}

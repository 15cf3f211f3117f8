// Where an agent lives, as the router asks it: "here" or "on node N". The node keeps a LocalAgentDirectory
// up to date as agents are deployed and removed; the cluster registry later answers the same two
// questions cluster-wide, so remote routing slots in without the router changing.

/** An agent on this node, or on another node of the cluster. */
export type AgentLocation = { readonly kind: 'local' } | { readonly kind: 'remote'; readonly node: string };

export interface AgentDirectory {
  /** Where `name` runs; undefined when no node runs it. Called for every routed message: O(1). */
  lookup(name: string): AgentLocation | undefined;
  /** Every agent (cluster-wide) advertising `capability`, in a stable order; empty when none. */
  byCapability(capability: string): readonly string[];
}

/** Shared so that a lookup on the hot path allocates nothing. */
export const LOCAL: AgentLocation = Object.freeze({ kind: 'local' });

interface Entry {
  node: string;
  location: AgentLocation;
  capabilities: readonly string[];
}

/** The capability index keeps its answer as an array until the set changes, so routing to a capability does not copy. */
interface CapabilityMembers {
  names: Set<string>;
  list: readonly string[] | null;
}

export class LocalAgentDirectory implements AgentDirectory {
  readonly #nodeId: string;
  readonly #agents = new Map<string, Entry>();
  readonly #capabilities = new Map<string, CapabilityMembers>();
  /** One location object per remote node, shared by all its agents. */
  readonly #remoteLocations = new Map<string, AgentLocation>();

  constructor(localNodeId: string) {
    this.#nodeId = localNodeId;
  }

  get nodeId(): string {
    return this.#nodeId;
  }

  get size(): number {
    return this.#agents.size;
  }

  /** Records (or replaces) where `name` runs and what it advertises. */
  upsert(name: string, node: string, capabilities: readonly string[]): void {
    const previous = this.#agents.get(name);
    if (previous) this.#unindex(name, previous.capabilities);
    const unique = [...new Set(capabilities)];
    this.#agents.set(name, { node, location: this.#locationOf(node), capabilities: unique });
    for (const capability of unique) {
      let members = this.#capabilities.get(capability);
      if (!members) {
        members = { names: new Set(), list: null };
        this.#capabilities.set(capability, members);
      }
      members.names.add(name);
      members.list = null;
    }
  }

  /** Forgets `name`; false when it was not known. */
  remove(name: string): boolean {
    const entry = this.#agents.get(name);
    if (!entry) return false;
    this.#unindex(name, entry.capabilities);
    this.#agents.delete(name);
    return true;
  }

  lookup(name: string): AgentLocation | undefined {
    return this.#agents.get(name)?.location;
  }

  nodeOf(name: string): string | undefined {
    return this.#agents.get(name)?.node;
  }

  byCapability(capability: string): readonly string[] {
    const members = this.#capabilities.get(capability);
    if (!members) return EMPTY;
    members.list ??= Object.freeze([...members.names]);
    return members.list;
  }

  #locationOf(node: string): AgentLocation {
    if (node === this.#nodeId) return LOCAL;
    let location = this.#remoteLocations.get(node);
    if (!location) {
      location = Object.freeze({ kind: 'remote', node });
      this.#remoteLocations.set(node, location);
    }
    return location;
  }

  #unindex(name: string, capabilities: readonly string[]): void {
    for (const capability of capabilities) {
      const members = this.#capabilities.get(capability);
      if (!members) continue;
      members.names.delete(name);
      members.list = null;
      if (members.names.size === 0) this.#capabilities.delete(capability);
    }
  }
}

const EMPTY: readonly string[] = Object.freeze([]);

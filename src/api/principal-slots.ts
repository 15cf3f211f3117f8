// Slots of a node-wide bound that one principal may not take all of: the sends waiting for replies (api.max_waits,
// api.max_waits_per_principal), the /mcp requests in flight (api.mcp_max_in_flight,
// api.mcp_max_in_flight_per_principal) and the event streams (api.max_event_streams, sse.ts). Without the share, one sender key (625 connections pipelining 16 each)
// held every wait of the node, and every other caller's wait_ms was refused; the same for /mcp.

/** Why a slot was refused: the node's bound or the caller's share of it. */
export type SlotRefusal = 'node' | 'principal';

export class PrincipalSlots {
  #total = 0;
  /** Slots per principal key; a principal with none has no entry. */
  readonly #held = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly maxPerPrincipal: number,
  ) {}

  /** Which bound would refuse a slot for `holder` now, or undefined when there is room (nothing taken). */
  refusal(holder: string): SlotRefusal | undefined {
    if (this.#total >= this.max) return 'node';
    if ((this.#held.get(holder) ?? 0) >= this.maxPerPrincipal) return 'principal';
    return undefined;
  }

  /** Takes a slot for `holder`, or says which bound refuses it (nothing taken). */
  take(holder: string): SlotRefusal | undefined {
    const refusal = this.refusal(holder);
    if (refusal !== undefined) return refusal;
    this.#total++;
    this.#held.set(holder, (this.#held.get(holder) ?? 0) + 1);
    return undefined;
  }

  /** Gives back a slot `take` gave `holder`. */
  give(holder: string): void {
    this.#total--;
    const left = this.#held.get(holder)! - 1;
    if (left === 0) this.#held.delete(holder);
    else this.#held.set(holder, left);
  }

  /** Slots taken now. */
  get taken(): number {
    return this.#total;
  }
}

/** The key a principal's slots are counted under, as its rate limit is: a JWT subject never shares an API key's. */
export function holderKeyOf(principal: { id: string; via?: string }): string {
  return `${principal.via ?? 'api-key'}:${principal.id}`;
}

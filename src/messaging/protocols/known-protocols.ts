// The protocols the router enforces, by the name messages carry in `protocol`. Any other name is carried
// along unchecked (messages.md).
import { FIPA_CONTRACT_NET, fipaContractNet } from './fipa-contract-net.ts';
import { FIPA_QUERY, fipaQuery } from './fipa-query.ts';
import { FIPA_REQUEST, fipaRequest } from './fipa-request.ts';
import { FIPA_SUBSCRIBE, fipaSubscribe } from './fipa-subscribe.ts';
import type { ProtocolMachine } from './protocol-machine.ts';

export const KNOWN_PROTOCOLS: ReadonlyMap<string, ProtocolMachine> = new Map([
  [FIPA_REQUEST, fipaRequest],
  [FIPA_QUERY, fipaQuery],
  [FIPA_CONTRACT_NET, fipaContractNet],
  [FIPA_SUBSCRIBE, fipaSubscribe],
]);

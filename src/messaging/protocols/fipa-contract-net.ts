// FIPA Contract Net (SC00029): a cfp to n participants, each proposes or refuses by reply_by; then the
// initiator accepts some proposals and rejects the others, and each accepted participant reports inform or
// failure. Each participant's part is tracked apart, so "accept only those that proposed" and "one proposal
// each" are table rules. Where SC00029 and messages.md are silent we do what JADE's ContractNetInitiator does:
// - the decision may start as soon as every participant has answered, not only once reply_by has passed
//   (JADE calls handleAllResponses then); before that, accept/reject are refused;
// - a failure or not-understood answering the cfp ends that participant's part like a refuse;
// - a cfp without reply_by is accepted; the decision then waits for every answer;
// - an accept-proposal may carry its own reply_by, bounding the result (inform/failure).
import { defineProtocol, ENDED } from './protocol-machine.ts';

export const FIPA_CONTRACT_NET = 'fipa-contract-net';

const PHASES: readonly (readonly [participantState: string, conversationState: string])[] = [
  ['called', 'collecting-proposals'],
  ['proposed', 'deciding'],
  ['accepted', 'awaiting-results'],
];

export const fipaContractNet = defineProtocol({
  name: FIPA_CONTRACT_NET,
  opening: { cfp: 'called' },
  initiator: {
    proposed: { 'accept-proposal': 'accepted', 'reject-proposal': 'rejected' },
  },
  participant: {
    called: { propose: 'proposed', refuse: 'refused', failure: 'failed', 'not-understood': 'not-understood' },
    accepted: { inform: 'done', failure: 'failed' },
  },
  awaiting: ['called', 'accepted'],
  summarize(states) {
    const seen = new Set(states);
    for (const [participantState, conversationState] of PHASES) if (seen.has(participantState)) return conversationState;
    return ENDED;
  },
  guard(_state, performative, role, context) {
    if (role !== 'initiator' || context.openingPending === 0) return undefined;
    if (performative !== 'accept-proposal' && performative !== 'reject-proposal') return undefined;
    return (
      `${FIPA_CONTRACT_NET}: "${performative}" before the proposals are in: ${context.openingPending} participant(s) ` +
      `have neither answered the cfp nor passed its reply_by`
    );
  },
});

// FIPA Query (SC00027): query-if or query-ref, answered once with inform, refuse, failure or not-understood.
// SC00027 also draws an optional agree before the inform; messages.md lists the answers exactly and leaves it
// out, so an agree here is a violation.
import { defineProtocol, firstStateIn } from './protocol-machine.ts';

export const FIPA_QUERY = 'fipa-query';

export const fipaQuery = defineProtocol({
  name: FIPA_QUERY,
  opening: { 'query-if': 'queried', 'query-ref': 'queried' },
  initiator: {},
  participant: {
    queried: { inform: 'answered', refuse: 'refused', failure: 'failed', 'not-understood': 'not-understood' },
  },
  awaiting: ['queried'],
  summarize: firstStateIn(['queried']),
});

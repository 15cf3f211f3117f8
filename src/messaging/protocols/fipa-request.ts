// FIPA Request (SC00026): the participant answers a request with refuse, agree or not-understood, or skips
// the agree and answers with the result (inform or failure) at once; after an agree it owes exactly one
// result. A request may go to several participants; as in JADE's AchieveREInitiator each answers apart.
// JADE's initiator sends nothing after the request, so neither may ours (no cancel in this protocol).
import { defineProtocol, firstStateIn } from './protocol-machine.ts';

export const FIPA_REQUEST = 'fipa-request';

export const fipaRequest = defineProtocol({
  name: FIPA_REQUEST,
  opening: { request: 'requested' },
  initiator: {},
  participant: {
    requested: { agree: 'agreed', refuse: 'refused', 'not-understood': 'not-understood', inform: 'done', failure: 'failed' },
    agreed: { inform: 'done', failure: 'failed' },
  },
  // As in JADE, a reply_by covers the result too: an agreed participant that never informs times out.
  awaiting: ['requested', 'agreed'],
  summarize: firstStateIn(['requested', 'agreed']),
});

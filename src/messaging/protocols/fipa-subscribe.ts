// FIPA Subscribe (SC00035): the participant agrees or refuses, then informs any number of times until the
// initiator cancels. Cancel ends the subscription at once, as JADE's SubscriptionInitiator.cancel does: an
// inform already on its way when the cancel passed the router is refused like any later one. A failure from
// the participant also ends it (SC00035: the participant can no longer notify). reply_by bounds only the
// agree/refuse: informs come when the subscribed condition holds, not by a deadline.
import { defineProtocol, firstStateIn } from './protocol-machine.ts';

export const FIPA_SUBSCRIBE = 'fipa-subscribe';

export const fipaSubscribe = defineProtocol({
  name: FIPA_SUBSCRIBE,
  opening: { subscribe: 'subscribing' },
  initiator: {
    subscribing: { cancel: 'cancelled' },
    subscribed: { cancel: 'cancelled' },
  },
  participant: {
    subscribing: { agree: 'subscribed', refuse: 'refused', 'not-understood': 'not-understood', failure: 'failed' },
    subscribed: { inform: 'subscribed', failure: 'failed' },
  },
  awaiting: ['subscribing'],
  summarize: firstStateIn(['subscribing', 'subscribed']),
});

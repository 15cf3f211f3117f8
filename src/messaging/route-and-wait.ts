// A client's send with wait_ms, in the one order that works: resolve the receivers once, start waiting for
// them, then route (failures such as AGENT_NOT_FOUND are answered inside `route`).
import type { ClientInbox, ExpectOptions } from './client-inbox.ts';
import type { AclMessage } from './message.ts';
import type { Router } from './router.ts';

/** Routes a stamped client message and resolves with its replies, oldest first (see ClientInbox.expect). */
export function routeAndWait(
  router: Pick<Router, 'resolveReceivers' | 'routeResolved'>,
  inbox: Pick<ClientInbox, 'expect'>,
  message: AclMessage,
  waitMs: number,
  options?: ExpectOptions,
): Promise<AclMessage[]> {
  const receivers = router.resolveReceivers(message);
  const replies = inbox.expect(message, receivers, waitMs, options);
  router.routeResolved(message, receivers);
  return replies;
}

// A drain or undrain asked of another member over the routing links (`caxton node drain --node ID`): its
// answer, or an UNAVAILABLE that says why (not a live member, no answer, a version without the method).
import type { ClusterService } from '../cluster/cluster-service.ts';
import { CaxtonError } from '../errors.ts';
import { DRAIN_REQUEST_TIMEOUT_MS } from './drain-binding.ts';

export async function askPeer<T>(cluster: ClusterService | undefined, node: string, method: string): Promise<T> {
  const links = cluster?.routing;
  const member = cluster?.members().find((m) => m.id === node);
  if (!links || !member || member.state !== 'alive') throw new CaxtonError('NOT_FOUND', `no live member named "${node}"`, { node });
  let answer: unknown;
  try {
    answer = await links.request(node, method, {}, DRAIN_REQUEST_TIMEOUT_MS);
  } catch (error) {
    throw new CaxtonError('UNAVAILABLE', `node "${node}" did not answer ${method}: ${(error as Error).message}`, { node });
  }
  const a = answer as { ok?: T; error?: { message?: string } } | undefined;
  if (a && typeof a === 'object' && 'ok' in a) return a.ok as T;
  if (a && /unknown method/.test(String(a.error?.message ?? ''))) {
    throw new CaxtonError('UNAVAILABLE', `node "${node}" runs a Caxton version without ${method}: upgrade it by restarting it (its agents are not handed over)`, { node });
  }
  throw new CaxtonError('UNAVAILABLE', `node "${node}" could not ${method.slice(5)}: ${String(a?.error?.message ?? 'no answer')}`, { node });
}

// Where a node's routing TLS material comes from at start-up, without ceremony:
//   --tls-dir DIR            → the operator's own PKI, loaded from there;
//   <data-dir>/tls exists    → what an earlier start made or got;
//   --bootstrap, or no --join → a new cluster CA and this node's certificate, made here;
//   --join with --token      → a certificate from the node joined through (enrollment.ts);
//   --join alone             → refused, in one line saying how to fix it.
import { join } from 'node:path';
import type { Config } from '../../config/config.ts';
import { DEFAULT_GOSSIP_PORT } from '../../config/defaults.ts';
import { parseHostPort } from '../../config/host-port.ts';
import { CaxtonError } from '../../errors.ts';
import { createCa, issueNodeCertificate } from './certificates.ts';
import { enroll } from './enrollment.ts';
import { parseJoinToken } from './join-token.ts';
import { hasCaKey, hasNodeTls, loadTlsMaterial, saveCa, saveNodeTls, type TlsMaterial } from './tls-files.ts';

export interface NodeTls {
  material: TlsMaterial;
  /** The directory it was loaded from (watched for renewals). */
  dir: string;
  /** This node holds the cluster CA's key: it can issue join tokens and certificates. */
  holdsCa: boolean;
  /** How it was obtained, for the start-up log. */
  source: 'tls-dir' | 'data-dir' | 'created' | 'enrolled';
}

export interface NodeTlsLogger {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
}

export async function ensureNodeTls(config: Config, nodeId: string, logger: NodeTlsLogger): Promise<NodeTls> {
  const own = config.routing.tls_dir;
  if (own !== undefined) {
    if (!hasNodeTls(own)) {
      throw new CaxtonError('INVALID_ARGUMENT', `routing.tls_dir ${own}: ca.pem, node.pem and node.key are needed (make them with caxton security init-ca and gen-cert)`);
    }
    return { material: checked(loadTlsMaterial(own), nodeId, own), dir: own, holdsCa: hasCaKey(own), source: 'tls-dir' };
  }
  const dir = join(config.node.data_dir, 'tls');
  if (hasNodeTls(dir)) return { material: checked(loadTlsMaterial(dir), nodeId, dir), dir, holdsCa: hasCaKey(dir), source: 'data-dir' };
  const joining = config.cluster.join.length > 0;
  if (config.cluster.bootstrap || !joining) {
    const ca = await createCa();
    saveCa(dir, ca);
    const issued = await issueNodeCertificate(ca, nodeId);
    saveNodeTls(dir, { caPem: ca.certPem, certPem: issued.certPem, keyPem: issued.keyPem });
    logger.info({ dir }, 'routing: created the cluster CA and this node\'s certificate (`caxton cluster token` lets other nodes join)');
    return { material: loadTlsMaterial(dir), dir, holdsCa: true, source: 'created' };
  }
  if (config.cluster.token === undefined) {
    throw new CaxtonError(
      'INVALID_ARGUMENT',
      '--join needs routing TLS material: add --token TOKEN (run `caxton cluster token` on a node of the cluster) or --tls-dir DIR (your own PKI)',
    );
  }
  const token = parseJoinToken(config.cluster.token);
  if (!token) throw new CaxtonError('INVALID_ARGUMENT', 'cluster.token: not a join token (expected caxton-join-v1.<fingerprint>.<secret> from `caxton cluster token`)');
  const errors: string[] = [];
  for (const address of config.cluster.join) {
    const target = parseHostPort(address, DEFAULT_GOSSIP_PORT);
    if (!target) continue;
    try {
      const material = await enroll({ host: target.host, port: target.port, token, nodeId, timeoutMs: config.routing.connect_timeout_ms });
      saveNodeTls(dir, material);
      logger.info({ dir, via: address }, 'routing: node certificate obtained with the join token');
      return { material, dir, holdsCa: false, source: 'enrolled' };
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  throw new CaxtonError('INVALID_ARGUMENT', errors.join('; ') || 'no usable --join address to enroll through');
}

function checked(material: TlsMaterial, nodeId: string, dir: string): TlsMaterial {
  if (material.nodeId !== nodeId) {
    throw new CaxtonError('INVALID_ARGUMENT', `${dir}/node.pem names node '${material.nodeId}', but this node is '${nodeId}' (start it with --node-id ${material.nodeId}, or issue a certificate for '${nodeId}')`);
  }
  return material;
}

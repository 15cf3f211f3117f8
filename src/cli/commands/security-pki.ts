// `caxton security init-ca` and `gen-cert`: the routing PKI for operators who bring their own, offline (no
// server needed). The files are those a node reads with `server start --tls-dir DIR`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createCa, issueNodeCertificate, isCertifiableNodeId } from '../../cluster/pki/certificates.ts';
import { hasCaKey, loadCa, saveCa, saveNodeTls, TLS_FILES } from '../../cluster/pki/tls-files.ts';
import { CliError } from '../cli-error.ts';
import { withExamples, type CliContext } from '../context.ts';

export function registerPkiCommands(security: Command, context: CliContext): void {
  const initCa = security
    .command('init-ca')
    .description('create a cluster CA (ca.pem, ca.key 0600) for node-to-node TLS')
    .requiredOption('--out <DIR>', 'directory to write ca.pem and ca.key')
    .action(async (options: { out: string }) => {
      if (existsSync(join(options.out, TLS_FILES.caKey))) throw new CliError(`${join(options.out, TLS_FILES.caKey)} exists: refusing to replace a CA`);
      saveCa(options.out, await createCa());
      context.io.out(`${join(options.out, TLS_FILES.caCert)}\n`);
    });
  withExamples(initCa, 'caxton security init-ca --out ./pki');

  const genCert = security
    .command('gen-cert')
    .description('issue a node certificate (node.pem, node.key 0600, ca.pem) naming the node id, for server start --tls-dir')
    .requiredOption('--node-id <ID>', 'the node id the certificate names')
    .requiredOption('--ca <DIR>', 'directory holding ca.pem and ca.key')
    .requiredOption('--out <DIR>', 'directory to write node.pem, node.key and ca.pem')
    .action(async (options: { nodeId: string; ca: string; out: string }) => {
      if (!isCertifiableNodeId(options.nodeId)) throw new CliError(`--node-id ${options.nodeId}: letters, digits, '.', '_' and '-' only`);
      if (!hasCaKey(options.ca)) throw new CliError(`${options.ca}: no ca.pem and ca.key (make them with caxton security init-ca --out ${options.ca})`);
      const ca = loadCa(options.ca);
      const issued = await issueNodeCertificate(ca, options.nodeId);
      saveNodeTls(options.out, { caPem: ca.certPem, certPem: issued.certPem, keyPem: issued.keyPem });
      context.io.out(`${join(options.out, TLS_FILES.nodeCert)}\n`);
    });
  withExamples(genCert, 'caxton security gen-cert --node-id node-1 --ca ./pki --out ./node-1-tls');
}

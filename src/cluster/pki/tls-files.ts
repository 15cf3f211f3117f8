// The TLS material of a node in one directory: ca.pem, ca.key (only on a node holding the CA), node.pem,
// node.key. Keys are written 0600. A watcher polls the files' mtimes so a renewed certificate is used by new
// connections without a restart (polling, not fs.watch: it works on every file system, and costs one stat
// per file per interval).
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateNodeId } from './certificates.ts';

export const TLS_FILES = { caCert: 'ca.pem', caKey: 'ca.key', nodeCert: 'node.pem', nodeKey: 'node.key' } as const;

/** What a node needs to speak mTLS: its certificate and key, and the CA its peers must chain to. */
export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** The node id the certificate names. */
  nodeId: string;
}

export function writeFileSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600); // an existing file keeps its mode on write
}

export function hasNodeTls(dir: string): boolean {
  return existsSync(join(dir, TLS_FILES.nodeCert)) && existsSync(join(dir, TLS_FILES.nodeKey)) && existsSync(join(dir, TLS_FILES.caCert));
}

export function hasCaKey(dir: string): boolean {
  return existsSync(join(dir, TLS_FILES.caKey)) && existsSync(join(dir, TLS_FILES.caCert));
}

export function loadTlsMaterial(dir: string): TlsMaterial {
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (error) {
      throw new Error(`TLS material: cannot read ${join(dir, name)}: ${(error as Error).message}`);
    }
  };
  const certPem = read(TLS_FILES.nodeCert);
  const nodeId = certificateNodeId(certPem);
  if (!nodeId) throw new Error(`TLS material: ${join(dir, TLS_FILES.nodeCert)} names no node (no CN)`);
  return { caPem: read(TLS_FILES.caCert), certPem, keyPem: read(TLS_FILES.nodeKey), nodeId };
}

export function loadCa(dir: string): { certPem: string; keyPem: string } {
  return { certPem: readFileSync(join(dir, TLS_FILES.caCert), 'utf8'), keyPem: readFileSync(join(dir, TLS_FILES.caKey), 'utf8') };
}

export function saveCa(dir: string, ca: { certPem: string; keyPem: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, TLS_FILES.caCert), ca.certPem);
  writeFileSecret(join(dir, TLS_FILES.caKey), ca.keyPem);
}

export function saveNodeTls(dir: string, material: { caPem: string; certPem: string; keyPem: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, TLS_FILES.caCert), material.caPem);
  writeFileSync(join(dir, TLS_FILES.nodeCert), material.certPem);
  writeFileSecret(join(dir, TLS_FILES.nodeKey), material.keyPem);
}

/**
 * Calls `onChange` with the reloaded material when ca.pem, node.pem or node.key changed on disk. A
 * half-written set (unreadable, or a key that does not match) is reported to `onError` and retried at the
 * next change; the material in use stays.
 */
export function watchTlsMaterial(
  dir: string,
  intervalMs: number,
  onChange: (material: TlsMaterial) => void,
  onError: (error: Error) => void,
): () => void {
  const stamp = (): string =>
    [TLS_FILES.caCert, TLS_FILES.nodeCert, TLS_FILES.nodeKey]
      .map((f) => {
        try {
          const s = statSync(join(dir, f));
          return `${s.mtimeMs}:${s.size}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  let last = stamp();
  const timer = setInterval(() => {
    const now = stamp();
    if (now === last) return;
    last = now;
    try {
      onChange(loadTlsMaterial(dir));
    } catch (error) {
      onError(error as Error);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

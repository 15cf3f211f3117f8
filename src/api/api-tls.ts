// The API over TLS (api.tls_cert, api.tls_key) and client certificates as the third way to authenticate
// (api.tls_client_ca, api.tls_client_roles). The files are polled and a changed set is loaded into the running
// server with setSecureContext: a renewed certificate (certbot, cert-manager) applies to new connections
// without a restart. A client certificate is asked for but not required (`rejectUnauthorized: false`), so
// API keys and JWTs keep working over the same port; only a certificate the CA verified, whose subject CN the
// config names, is a principal.
import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { Principal, Role } from '../node/services.ts';
import type { CertificatePrincipal } from './auth.ts';

/** How often the files are checked for a change: renewals are rare, and a stat every 2 s costs nothing. */
const RELOAD_POLL_MS = 2000;

export interface ApiTlsFiles {
  cert: string;
  key: string;
  /** PEM bundle of the CAs whose client certificates are accepted; absent = no client certificates. */
  clientCa?: string;
}

export interface HttpsOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: false;
  minVersion: 'TLSv1.2';
}

/** The https options Fastify is built with; throws naming the file that cannot be read. */
export function readHttpsOptions(files: ApiTlsFiles): HttpsOptions {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`api.${what}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  return {
    cert: read('tls_cert', files.cert),
    key: read('tls_key', files.key),
    ...(files.clientCa ? { ca: read('tls_client_ca', files.clientCa) } : {}),
    requestCert: files.clientCa !== undefined,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

export interface SecureContextTarget {
  setSecureContext(options: { cert: Buffer; key: Buffer; ca?: Buffer }): void;
}

/**
 * Reloads the certificate, key and client CA into `server` whenever one of the files changes; a set that does
 * not load (a renewal half written) keeps the current context and is reported. Returns the stop function.
 */
export function watchTlsFiles(
  server: SecureContextTarget,
  files: ApiTlsFiles,
  report: { loaded(ca: Buffer | undefined): void; failed(error: unknown): void },
): () => void {
  const paths = [files.cert, files.key, ...(files.clientCa ? [files.clientCa] : [])];
  const onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    try {
      const { cert, key, ca } = readHttpsOptions(files);
      server.setSecureContext({ cert, key, ...(ca ? { ca } : {}) });
      report.loaded(ca);
    } catch (error) {
      report.failed(error);
    }
  };
  for (const path of paths) watchFile(path, { interval: RELOAD_POLL_MS, persistent: false }, onChange);
  return () => {
    for (const path of paths) unwatchFile(path, onChange);
  };
}

/** One entry of api.tls_client_roles: `CN=ROLE` (the principal is the CN) or `CN=PRINCIPAL:ROLE`. */
export interface ClientCertificateRule {
  commonName: string;
  principal: string;
  role: Role;
}

const ROLES: readonly string[] = ['admin', 'operator', 'deployer', 'sender', 'viewer'];
/** Principal ids the audit log already gives a meaning. */
const RESERVED_PRINCIPALS = new Set(['admin', 'anonymous', 'unauthenticated', '*']);

/** Parses an api.tls_client_roles entry; null when it is not `CN=ROLE` or `CN=PRINCIPAL:ROLE` with a known role. */
export function parseClientCertificateRule(text: string): ClientCertificateRule | null {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) return null;
  const commonName = text.slice(0, eq);
  const value = text.slice(eq + 1);
  const colon = value.lastIndexOf(':');
  const principal = colon < 0 ? commonName : value.slice(0, colon);
  const role = colon < 0 ? value : value.slice(colon + 1);
  if (!ROLES.includes(role) || principal === '' || RESERVED_PRINCIPALS.has(principal.toLowerCase())) return null;
  return { commonName, principal, role: role as Role };
}

/** The client-certificate principal of a request, told when the client CA bundle is reloaded. */
export interface CertificatePrincipals {
  principalOf: CertificatePrincipal;
  /** The bundle now trusted: connections verified under an earlier one are checked against it before they pass. */
  caReloaded(ca: Buffer): void;
}

/** What a connection's certificate was mapped to, under which load of the client CA bundle. */
interface Mapped {
  principal: Principal | null;
  generation: number;
}

/** True when some certificate of the peer's chain was issued and signed by one of `cas`, and the leaf is in date. */
function chainReaches(socket: TLSSocket, cas: readonly X509Certificate[], nowMs: number): boolean {
  let link: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  if (!link?.raw || Date.parse(link.valid_to) < nowMs) return false;
  const seen = new Set<string>();
  while (link?.raw && !seen.has(link.fingerprint256)) {
    seen.add(link.fingerprint256);
    const certificate = new X509Certificate(link.raw);
    if (cas.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey))) return true;
    link = link.issuerCertificate;
  }
  return false;
}

/** The certificates of a PEM bundle; those that do not parse are left out (the TLS layer refused the bundle then). */
function certificatesOf(bundle: Buffer): X509Certificate[] {
  const pems = bundle.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const certificates: X509Certificate[] = [];
  for (const pem of pems) {
    try {
      certificates.push(new X509Certificate(pem));
    } catch {
      // Not a certificate: it verifies nothing.
    }
  }
  return certificates;
}

/**
 * Maps a verified client certificate's subject CN to its configured principal; anything else is no principal.
 * A reload of the client CA bundle applies to new handshakes only, and a keep-alive connection verified under
 * the old bundle kept its principal for as long as it stayed open (a CA removed to cut its clients off let
 * theirs go on): such a connection is checked once against the new bundle, and is no principal unless its chain
 * reaches one of its CAs.
 */
export function certificatePrincipals(rules: readonly ClientCertificateRule[]): CertificatePrincipals {
  const byCommonName = new Map(rules.map((r) => [r.commonName, Object.freeze({ id: r.principal, role: r.role, via: 'certificate' as const })]));
  // Once per connection, not per request: a keep-alive client sends thousands of requests on one handshake.
  const bySocket = new WeakMap<object, Mapped>();
  let generation = 0;
  let trusted: readonly X509Certificate[] = [];
  const principalOf = (request: FastifyRequest): Principal | null => {
    const socket = request.socket as Partial<TLSSocket>;
    if (!socket.encrypted || typeof socket.getPeerCertificate !== 'function') return null;
    const mapped = bySocket.get(socket);
    if (mapped?.generation === generation) return mapped.principal;
    let principal: Principal | null = null;
    if (mapped !== undefined) {
      // Verified under an earlier bundle: it passes only if the current one still verifies its chain.
      if (mapped.principal !== null && chainReaches(socket as TLSSocket, trusted, Date.now())) principal = mapped.principal;
    } else if (socket.authorized) {
      const cn = socket.getPeerCertificate().subject?.CN;
      principal = (typeof cn === 'string' ? byCommonName.get(cn) : undefined) ?? null;
    }
    bySocket.set(socket, { principal, generation });
    return principal;
  };
  return {
    principalOf,
    caReloaded(ca) {
      trusted = certificatesOf(ca);
      generation++;
    },
  };
}

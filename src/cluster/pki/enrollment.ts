// Getting a node certificate with a join token. The joining node connects to a CA node's gossip port, writes
// the marker byte 0xCE, then speaks TLS without a client certificate. It trusts the server only if the CA
// that signed the server's certificate has the token's fingerprint, then sends the token's secret, its node
// id and its public key, and receives its certificate and the CA certificate. The CA node checks the secret
// (a hash compare) before it signs anything: unauthenticated work stays cheap.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, Server as TlsServer, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { decodeValue, encodeValueFrame, FrameReader } from '../routing/frames.ts';
import { certificateFingerprint, certificateNodeId, issueNodeCertificate, createNodeKey, isCertifiableNodeId, type CaMaterial } from './certificates.ts';
import type { JoinToken, JoinTokenStore } from './join-token.ts';
import type { TlsMaterial } from './tls-files.ts';

export const ENROLLMENT_MARKER = 0xce;
/** Frame type of the enrollment request and answer (its own channel; numbers do not clash with routing). */
const ENROLL_FRAME = 0x40;
/** An enrollment request is a secret, a node id and a P-256 key: 4 KiB is ample. */
const MAX_ENROLL_FRAME = 4096;
/** Enrollments served at once: each costs a TLS handshake; joins are rare. */
const MAX_CONCURRENT = 8;

export interface EnrollmentLogger {
  info(data: Record<string, unknown>, message: string): void;
  warn(data: Record<string, unknown>, message: string): void;
}

export class EnrollmentServer {
  private readonly server: TlsServer;
  private active = 0;

  constructor(
    private readonly options: {
      ca: () => CaMaterial;
      /** This node's certificate, presented with the CA's so the client can check the chain against its pin. */
      tls: () => TlsMaterial;
      tokens: JoinTokenStore;
      timeoutMs: number;
      logger: EnrollmentLogger;
      /**
       * True for a node id that is a live member now: a join token admits a new node, so it never certifies
       * the name of one that runs (this node's included), which would let its holder speak for that node on
       * routing links (the certificate's name is the identity a link is accepted under).
       */
      isLiveMember?: (nodeId: string) => boolean;
    },
  ) {
    const material = options.tls();
    this.server = new TlsServer({ key: material.keyPem, cert: material.certPem + material.caPem, minVersion: 'TLSv1.3', handshakeTimeout: options.timeoutMs });
    this.server.on('secureConnection', (socket: TLSSocket) => this.serve(socket));
    // Node leaves the socket open when this event has a listener, a handshake that timed out included.
    this.server.on('tlsClientError', (_error, socket) => socket.destroy());
  }

  /** A renewed node certificate: presented to joining nodes from now on. */
  updateTls(material: TlsMaterial): void {
    this.server.setSecureContext({ key: material.keyPem, cert: material.certPem + material.caPem, minVersion: 'TLSv1.3' });
  }

  /** A connection from the gossip port that started with ENROLLMENT_MARKER (`head` includes it). */
  acceptSocket(socket: Socket, head: Buffer): void {
    if (this.active >= MAX_CONCURRENT) {
      socket.destroy();
      return;
    }
    this.active++;
    socket.once('close', () => this.active--);
    socket.on('error', () => {});
    socket.pause();
    if (head.length > 1) socket.unshift(head.subarray(1));
    setTimeout(() => socket.destroy(), this.options.timeoutMs).unref();
    this.server.emit('connection', socket);
  }

  private serve(socket: TLSSocket): void {
    socket.on('error', () => {});
    const reader = new FrameReader(MAX_ENROLL_FRAME);
    const answer = (value: Record<string, unknown>): void => {
      socket.end(encodeValueFrame(ENROLL_FRAME, value));
    };
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      if (frames.length === 0) return;
      socket.removeAllListeners('data');
      void this.enroll(frames[0].payload, socket.remoteAddress ?? '?').then(answer, (e: Error) => answer({ ok: false, error: e.message }));
    });
  }

  private async enroll(payload: Buffer, from: string): Promise<Record<string, unknown>> {
    const request = decodeValue(payload) as { secret?: unknown; node?: unknown; spki?: unknown } | null;
    if (typeof request !== 'object' || request === null || typeof request.secret !== 'string' || typeof request.node !== 'string' || !(request.spki instanceof Uint8Array)) {
      return { ok: false, error: 'malformed enrollment request' };
    }
    if (!this.options.tokens.accepts(request.secret)) {
      this.options.logger.warn({ from, node: request.node.slice(0, 64) }, 'enrollment refused: unknown or expired join token');
      return { ok: false, error: 'the join token is unknown or expired: ask `caxton cluster token` on a node holding the CA for a new one' };
    }
    if (!isCertifiableNodeId(request.node)) return { ok: false, error: `node id '${request.node.slice(0, 64)}' cannot be a certificate name` };
    if (this.options.isLiveMember?.(request.node)) {
      this.options.logger.warn({ from, node: request.node }, 'enrollment refused: the node id is a live member');
      return { ok: false, error: `node id '${request.node}' is a live member of this cluster: a joining node needs an id of its own (or wait until that node is declared dead)` };
    }
    const ca = this.options.ca();
    const issued = await issueNodeCertificate(ca, request.node, request.spki);
    this.options.logger.info({ from, node: request.node }, 'enrollment: node certificate issued');
    return { ok: true, cert: issued.certPem, ca: ca.certPem };
  }
}

export class EnrollmentError extends Error {}

/** Gets this node's certificate from the CA node at host:port. Rejects with one line saying what went wrong. */
export async function enroll(options: { host: string; port: number; token: JoinToken; nodeId: string; timeoutMs: number }): Promise<TlsMaterial> {
  const { host, port, token, nodeId, timeoutMs } = options;
  const key = await createNodeKey();
  return new Promise<TlsMaterial>((resolve, reject) => {
    let settled = false;
    let tls: TLSSocket | undefined;
    const raw = netConnect({ host, port });
    const done = (error: Error | undefined, material?: TlsMaterial): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tls?.destroy();
      raw.destroy();
      if (error) reject(error);
      else resolve(material as TlsMaterial);
    };
    const timer = setTimeout(() => done(new EnrollmentError(`enrollment at ${host}:${port}: no answer within ${timeoutMs} ms`)), timeoutMs);
    raw.on('error', (e) => done(new EnrollmentError(`enrollment at ${host}:${port}: ${e.message}`)));
    raw.once('connect', () => {
      raw.write(Buffer.from([ENROLLMENT_MARKER]));
      // Verification is ours, against the pinned fingerprint: the CA is not known yet.
      tls = tlsConnect({ socket: raw, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
      tls.on('error', (e) => done(new EnrollmentError(`enrollment at ${host}:${port}: ${e.message}`)));
      tls.once('secureConnect', () => {
        const leaf = tls!.getPeerCertificate(true);
        const issuer = leaf?.issuerCertificate;
        const pinned = issuer?.fingerprint256?.replace(/:/g, '').toLowerCase();
        if (!leaf?.raw || !issuer?.raw || pinned !== token.caFingerprint) {
          return done(new EnrollmentError(`enrollment at ${host}:${port}: the node's CA does not match the token's fingerprint (wrong token, or not this cluster)`));
        }
        if (!new X509Certificate(leaf.raw).verify(new X509Certificate(issuer.raw).publicKey)) {
          return done(new EnrollmentError(`enrollment at ${host}:${port}: the node's certificate is not signed by the pinned CA`));
        }
        tls!.write(encodeValueFrame(ENROLL_FRAME, { secret: token.secret, node: nodeId, spki: key.publicKeySpki }));
      });
      const reader = new FrameReader(1 << 16);
      tls.on('data', (chunk: Buffer) => {
        try {
          const frames = reader.push(chunk);
          if (frames.length === 0) return;
          const reply = decodeValue(frames[0].payload) as { ok?: boolean; error?: string; cert?: string; ca?: string };
          if (!reply?.ok) return done(new EnrollmentError(`join refused by ${host}:${port}: ${String(reply?.error ?? 'no reason given').slice(0, 300)}`));
          if (typeof reply.cert !== 'string' || typeof reply.ca !== 'string') return done(new EnrollmentError('enrollment: malformed answer'));
          if (certificateFingerprint(reply.ca) !== token.caFingerprint) return done(new EnrollmentError('enrollment: the CA returned does not match the token'));
          if (certificateNodeId(reply.cert) !== nodeId) return done(new EnrollmentError('enrollment: the certificate returned names another node'));
          done(undefined, { caPem: reply.ca, certPem: reply.cert, keyPem: key.keyPem, nodeId });
        } catch (error) {
          done(new EnrollmentError(`enrollment: ${(error as Error).message}`));
        }
      });
      tls.once('close', () => done(new EnrollmentError(`enrollment at ${host}:${port}: connection closed before an answer`)));
    });
  });
}

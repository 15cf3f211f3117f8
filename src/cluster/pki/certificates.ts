// The cluster's X.509 material: an EC P-256 certificate authority and node certificates whose name (CN and
// one DNS SAN) is the node id. Made with WebCrypto + @peculiar/x509, written as PEM that node:tls reads.
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600_000;

/** Validity of a CA: ten years, since replacing it means re-issuing every node certificate. */
export const CA_VALIDITY_DAYS = 3650;
/** Validity of a node certificate: one year; reload from disk lets an operator renew without restart. */
export const NODE_CERT_VALIDITY_DAYS = 365;

export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

export interface NodeMaterial {
  certPem: string;
  keyPem: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function importPrivateKey(keyPem: string): Promise<CryptoKey> {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

/** A new self-signed cluster CA. */
export async function createCa(name = 'Caxton cluster CA', now = new Date()): Promise<CaMaterial> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${escapeRdn(name)}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

/** A node id usable as a certificate name: what a DNS SAN and the CN can carry unambiguously. */
export function isCertifiableNodeId(nodeId: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(nodeId);
}

/**
 * Signs a certificate naming `nodeId` for `publicKey` (SPKI DER), usable as TLS client and server.
 * With no public key a fresh key pair is made and its private key returned too.
 */
export async function issueNodeCertificate(ca: CaMaterial, nodeId: string, publicKeySpki?: Uint8Array, now = new Date()): Promise<NodeMaterial> {
  if (!isCertifiableNodeId(nodeId)) throw new Error(`node id '${nodeId}' cannot be a certificate name (letters, digits, '.', '_', '-')`);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  let keyPem = '';
  let publicKey: CryptoKey;
  if (publicKeySpki) {
    publicKey = await webcrypto.subtle.importKey('spki', publicKeySpki, ALGORITHM, true, ['verify']);
  } else {
    const keys = await generateKeys();
    publicKey = keys.publicKey;
    keyPem = await privateKeyPem(keys.privateKey);
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeRdn(nodeId)}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(Math.min(now.getTime() + NODE_CERT_VALIDITY_DAYS * DAY_MS, caCert.notAfter.getTime())),
    signingAlgorithm: ALGORITHM,
    publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: nodeId }]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem };
}

/** A fresh P-256 key pair for enrollment: the private key stays here, the SPKI goes to the CA. */
export async function createNodeKey(): Promise<{ keyPem: string; publicKeySpki: Uint8Array }> {
  const keys = await generateKeys();
  return {
    keyPem: await privateKeyPem(keys.privateKey),
    publicKeySpki: new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey)),
  };
}

/** The SHA-256 fingerprint of a PEM certificate's DER, lower-case hex. */
export function certificateFingerprint(certPem: string): string {
  const der = new x509.X509Certificate(certPem).rawData;
  return createHash('sha256').update(Buffer.from(der)).digest('hex');
}

/** The node id a certificate names (its CN). */
export function certificateNodeId(certPem: string): string | undefined {
  const cn = new x509.X509Certificate(certPem).subjectName.getField('CN');
  return cn[0];
}

function escapeRdn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

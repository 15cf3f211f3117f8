// A throwaway PKI for TLS tests: a CA and the certificates it signs (ECDSA P-256), as PEM, made in-process with
// @peculiar/x509 so the tests need no openssl.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Pem {
  cert: string;
  key: string;
}

export interface TestCa extends Pem {
  /** A certificate signed by this CA: `server` ones carry SANs for localhost and 127.0.0.1. */
  issue(commonName: string, options?: { server?: boolean }): Promise<Pem>;
}

let serial = 1;
const nextSerial = (): string => (serial++).toString(16).padStart(2, '0');

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
}

const validity = (): { notBefore: Date; notAfter: Date } => ({
  notBefore: new Date(Date.now() - 60_000),
  notAfter: new Date(Date.now() + 24 * 3600_000),
});

export async function createTestCa(name = 'Caxton Test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${name}`,
    ...validity(),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert: ca.toString('pem'),
    key: await keyPem(keys.privateKey),
    async issue(commonName, options = {}) {
      const leafKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: nextSerial(),
        subject: `CN=${commonName}`,
        issuer: ca.subject,
        ...validity(),
        signingAlgorithm: ALGORITHM,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([options.server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
          ...(options.server
            ? [
                new x509.SubjectAlternativeNameExtension([
                  { type: 'dns', value: 'localhost' },
                  { type: 'ip', value: '127.0.0.1' },
                ]),
              ]
            : []),
        ],
      });
      return { cert: leaf.toString('pem'), key: await keyPem(leafKeys.privateKey) };
    },
  };
}

/**
 * The stand-in's TLS identity (hive.server2.use.SSL with a keystore): a certificate and key from
 * files, or one generated at start — self-signed, valid for 127.0.0.1 and localhost, so a client
 * that trusts `ca` (the certificate itself) verifies it by either name and refuses any other.
 */
import { readFile } from 'node:fs/promises';
import selfsigned from 'selfsigned';

export interface TlsIdentity {
  cert: string;
  key: string;
  /** What a client must trust to verify `cert`: for a generated one, the certificate itself. */
  ca: string;
}

/** Names the generated certificate carries, besides the IP address 127.0.0.1. */
export const GENERATED_CERT_DNS_NAMES = ['localhost'] as const;

export async function generatedTlsIdentity(): Promise<TlsIdentity> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'hive-stand-in' }], {
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, ...GENERATED_CERT_DNS_NAMES.map((value) => ({ type: 2 as const, value }))] },
    ],
  });
  return { cert: pems.cert, key: pems.private, ca: pems.cert };
}

export async function tlsIdentityFromFiles(certFile: string, keyFile: string): Promise<TlsIdentity> {
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { cert, key, ca: cert };
}

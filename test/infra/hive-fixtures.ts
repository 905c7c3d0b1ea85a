/**
 * Deploy-config pieces for Hive over TLS and Kerberos, shared by the infra suites: a real CA
 * certificate (made by openssl, so it parses as X.509 the way the stack and the connector parse
 * it), a krb5.conf as a platform team would copy it from the cluster, and a keytab's base64.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REALM = 'HADOOP.EXAMPLE.COM';
export const KDC_CIDRS = ['10.20.1.20/31'];
export const HIVE_SERVER_NAME = 'hs2.hadoop.internal';

export const KRB5_CONF = [
  '[libdefaults]',
  `  default_realm = ${REALM}`,
  '  dns_lookup_kdc = false',
  '  dns_canonicalize_hostname = false',
  '  rdns = false',
  '',
  '[realms]',
  `  ${REALM} = {`,
  '    kdc = 10.20.1.20',
  '    kdc = 10.20.1.21:88',
  '  }',
  '',
].join('\n');

const caPems = new Map<string, string>();

/** A self-signed CA certificate (PEM) with this common name, made once per test file. */
export function testCaPem(commonName = 'Hadoop Test CA'): string {
  const made = caPems.get(commonName);
  if (made !== undefined) return made;
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error) throw new Error('openssl is not installed; expected it on PATH (apt-get install -y openssl; .ci/run installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'hive-ca-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', `/CN=${commonName}`, '-addext', 'basicConstraints=critical,CA:TRUE'],
      { cwd: dir, stdio: 'pipe' },
    );
    const pem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    caPems.set(commonName, pem);
    return pem;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** base64 of bytes that start like an MIT keytab (05 02), on one line: what TF_VAR_hive_kerberos_keytab holds. */
export function keytabBase64(): string {
  return Buffer.concat([Buffer.from([0x05, 0x02]), randomBytes(70)]).toString('base64');
}

/** Hive over TLS (with the test CA) and Kerberos, as a patch on the committed example. */
export function kerberosPatch(kerberos: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hadoop: {
      hive: {
        auth: 'KERBEROS',
        username: undefined,
        tls: { enabled: true, caPem: testCaPem(), serverName: HIVE_SERVER_NAME },
        kerberos: { principal: `svc-aml@${REALM}`, serviceHost: HIVE_SERVER_NAME, krb5Conf: KRB5_CONF, kdcCidrs: KDC_CIDRS, ...kerberos },
        ...rest,
      },
    },
  };
}

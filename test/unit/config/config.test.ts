import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../app/src/config/config.js';
import { generatedTlsIdentity } from '../../../scripts/hive-stand-in/transport/tls-identity.js';

const key = randomBytes(32).toString('base64');
const minimal = {
  HIVE_HOST: 'hive.internal',
  HIVE_USERNAME: 'svc',
  HIVE_PASSWORD: 'hive-secret-value',
  HIVE_TLS: 'true',
  ENOS_BASE_URL: 'https://apim.example.com',
  SESSION_SIGNING_KEY: key,
  ORG_ACCESS: '{"o1":{"databases":["enos"]}}',
  BLOB_ACCOUNT_URL: 'https://acct.blob.core.windows.net',
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('applies documented defaults to a minimal Azure configuration', () => {
    const config = loadConfig(minimal);
    expect(config.http.port).toBe(8080);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.hive).toMatchObject({ port: 10000, transport: 'binary', auth: 'PLAIN', fetchSize: 10_000 });
    expect(config.storage).toEqual({
      method: 'blob',
      timeoutMs: 300_000,
      blob: { kind: 'managedIdentity', accountUrl: 'https://acct.blob.core.windows.net', container: 'exports', sasVersion: undefined },
    });
    expect(config.jobs.store).toEqual({ kind: 'sqlite', file: '.local/jobs.sqlite' });
    expect(config.exports).toMatchObject({ defaultTtlMinutes: 1440, maxTtlMinutes: 10080 });
    expect(config.auth.sessionSigningKey.equals(Buffer.from(key, 'base64'))).toBe(true);
    expect(config.auth.orgAccess).toEqual({ o1: { databases: ['enos'] } });
  });

  it('names every bad field and what was expected, in one error', () => {
    const problems = problemsOf({ ...minimal, HIVE_PORT: 'abc', STORAGE_METHOD: 'ftp', ORG_ACCESS: '{"o1":{"databases":[]}}' });
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('HIVE_PORT:'))).toContain("got 'abc'");
    expect(problems.find((p) => p.startsWith('STORAGE_METHOD:'))).toMatch(/blob.*local/);
    expect(problems.find((p) => p.startsWith('ORG_ACCESS:'))).toContain('o1.databases');
  });

  it('never echoes a secret value in its errors', () => {
    const problems = problemsOf({ ...minimal, SESSION_SIGNING_KEY: 'c2hvcnQ=' });
    expect(problems.join('\n')).toContain('SESSION_SIGNING_KEY');
    expect(problems.join('\n')).not.toContain('c2hvcnQ=');
    expect(problems.join('\n')).toContain('hidden: secret');
  });

  it('requires the keys each storage method and auth mode needs', () => {
    const { BLOB_ACCOUNT_URL: _url, HIVE_PASSWORD: _pw, ...rest } = minimal;
    const problems = problemsOf({ ...rest, STORAGE_METHOD: 'local' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['FILE_ENCRYPTION_KEY', 'HIVE_PASSWORD', 'URL_SIGNING_KEY']);
  });

  it('takes the storage deadline for either method, and refuses one below a second or above an hour', () => {
    expect(loadConfig({ ...minimal, STORAGE_TIMEOUT_MS: '45000' }).storage.timeoutMs).toBe(45_000);
    const local = loadConfig({ ...minimal, STORAGE_METHOD: 'local', FILE_ENCRYPTION_KEY: key, URL_SIGNING_KEY: key, STORAGE_TIMEOUT_MS: '2000' });
    expect(local.storage).toMatchObject({ method: 'local', timeoutMs: 2_000 });
    expect(problemsOf({ ...minimal, STORAGE_TIMEOUT_MS: '500' })[0]).toMatch(/^STORAGE_TIMEOUT_MS: .*1000.*got '500'/);
    expect(problemsOf({ ...minimal, STORAGE_TIMEOUT_MS: '3600001' })[0]).toMatch(/^STORAGE_TIMEOUT_MS: .*3600000/);
  });

  it('refuses a default lifetime longer than the maximum', () => {
    const problems = problemsOf({ ...minimal, EXPORT_DEFAULT_TTL_MINUTES: '2000', EXPORT_MAX_TTL_MINUTES: '1000' });
    expect(problems[0]).toMatch(/^EXPORT_DEFAULT_TTL_MINUTES: must not exceed/);
  });

  it('reads a CONFIG_FILE and lets the environment override it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'connector.json');
    writeFileSync(file, JSON.stringify({ ...minimal, HIVE_PORT: 10001, ORG_ACCESS: { o2: { databases: ['x'] } } }));
    const config = loadConfig({ CONFIG_FILE: file, HIVE_PORT: '10002' });
    expect(config.hive.port).toBe(10002);
    expect(config.auth.orgAccess).toEqual({ o2: { databases: ['x'] } });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...minimal, PORT: '' }).http.port).toBe(8080);
  });

  it('reads TRUST_PROXY as Express would apply it, and refuses values Express would misread', () => {
    expect(loadConfig(minimal).http.trustProxy).toBe('loopback');
    expect(loadConfig({ ...minimal, TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
    expect(loadConfig({ ...minimal, TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).http.trustProxy).toBe('loopback, 10.0.0.0/8,fd00::1');
    // 'true' trusts every client's X-Forwarded-For (login throttling keyed on a forged address);
    // Express reads other words as IP addresses and fails only when the app is built.
    for (const value of ['true', 'garbage', '10.0.0.0/33', 'loopback,']) {
      const problems = problemsOf({ ...minimal, TRUST_PROXY: value });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^TRUST_PROXY: expected a hop count or a comma-separated list of/);
    }
  });

  it('refuses a BODY_LIMIT the body parser cannot read (it would stop the start with its own TypeError)', () => {
    expect(loadConfig({ ...minimal, BODY_LIMIT: '1mb' }).http.bodyLimit).toBe('1mb');
    expect(loadConfig({ ...minimal, BODY_LIMIT: '65536' }).http.bodyLimit).toBe('65536');
    expect(problemsOf({ ...minimal, BODY_LIMIT: 'sixty-four kb' })[0]).toMatch(/^BODY_LIMIT: expected a size such as 64kb/);
  });

  it('refuses plain-HTTP URLs off loopback for the EnOS gateway (passwords travel there) and for download links', () => {
    expect(problemsOf({ ...minimal, ENOS_BASE_URL: 'http://apim.example.com' })[0]).toMatch(/^ENOS_BASE_URL: expected an https:\/\/ URL/);
    expect(loadConfig({ ...minimal, ENOS_BASE_URL: 'http://127.0.0.1:4000' }).enos.baseUrl).toBe('http://127.0.0.1:4000');
    const local = { ...minimal, STORAGE_METHOD: 'local', FILE_ENCRYPTION_KEY: key, URL_SIGNING_KEY: key, HOST: '0.0.0.0' };
    expect(problemsOf({ ...local, PUBLIC_BASE_URL: 'http://connector.example.com' })[0]).toMatch(/^PUBLIC_BASE_URL: expected an https:\/\/ URL/);
    expect(loadConfig({ ...local, PUBLIC_BASE_URL: 'https://connector.example.com' }).http.publicBaseUrl).toBe('https://connector.example.com');
    expect(loadConfig({ ...local, PUBLIC_BASE_URL: 'http://localhost:8080' }).http.publicBaseUrl).toBe('http://localhost:8080');
  });

  it('does not quote a CONFIG_FILE that is not valid JSON (it holds secrets), and says where it broke', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const unquoted = path.join(dir, 'unquoted.json');
    writeFileSync(unquoted, '{\n  "HIVE_HOST": "hive.internal",\n  "SESSION_SIGNING_KEY": c3VwZXJzZWNyZXQ\n}');
    const [problem] = problemsOf({ CONFIG_FILE: unquoted });
    expect(problem).toMatch(/^CONFIG_FILE: .*unquoted\.json' is not valid JSON/);
    expect(problem).not.toContain('c3VwZXJzZWNyZXQ');
    const truncated = path.join(dir, 'truncated.json');
    writeFileSync(truncated, '{\n  "HIVE_HOST": "hive.internal",\n  "HIVE_PASSWORD": "s3cret"\n  "HIVE_PORT": 1\n}');
    expect(problemsOf({ CONFIG_FILE: truncated })[0]).toMatch(/is not valid JSON \(line 4, column 3\)$/);
  });

  it('names keys in a CONFIG_FILE that it does not know, so a typo does not fall back to a default unnoticed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'connector.json');
    writeFileSync(file, JSON.stringify({ ...minimal, EXPORT_MAX_ROW: 10, JOBS_MAX_CONCURENT: 2 }));
    expect(problemsOf({ CONFIG_FILE: file })).toEqual([
      "CONFIG_FILE: unknown key 'EXPORT_MAX_ROW' (see app/README.md for the keys)",
      "CONFIG_FILE: unknown key 'JOBS_MAX_CONCURENT' (see app/README.md for the keys)",
    ]);
  });

  it('takes the client id of a user-assigned managed identity, and only a UUID', () => {
    expect(loadConfig({ ...minimal, AZURE_CLIENT_ID: '6f1c0b9e-2d4a-4c1e-9b7a-3e5f8d2a1c40' }).azureClientId).toBe('6f1c0b9e-2d4a-4c1e-9b7a-3e5f8d2a1c40');
    expect(loadConfig(minimal).azureClientId).toBeUndefined();
    expect(problemsOf({ ...minimal, AZURE_CLIENT_ID: 'not-a-uuid' })[0]).toMatch(/^AZURE_CLIENT_ID:/);
  });
});

describe('Hive TLS and Kerberos settings', () => {
  const { HIVE_TLS: _tls, ...plainText } = minimal;
  const keytab = Buffer.concat([Buffer.from([0x05, 0x02]), randomBytes(40)]).toString('base64');
  let pem: string;
  beforeAll(async () => {
    pem = (await generatedTlsIdentity()).cert;
  });

  it('refuses PLAIN without TLS to a host off loopback, naming the opt-out key', () => {
    expect(problemsOf(plainText)).toEqual([
      "HIVE_TLS: must be true when HIVE_AUTH is PLAIN and HIVE_HOST 'hive.internal' is not loopback: the password would cross the network in clear (set HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS=true to accept that) (got nothing)",
    ]);
    expect(loadConfig({ ...plainText, HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS: 'true' }).hive.tls).toBeUndefined();
    expect(loadConfig({ ...plainText, HIVE_HOST: '127.0.0.1' }).hive.tls).toBeUndefined();
    expect(loadConfig({ ...plainText, HIVE_AUTH: 'NOSASL' }).hive.auth).toBe('NOSASL');
  });

  it('takes the CA bundle inline or from a file, and the name to verify', () => {
    expect(loadConfig({ ...minimal, HIVE_TLS_CA_PEM: pem, HIVE_TLS_SERVER_NAME: 'hs2.cluster.internal' }).hive.tls).toEqual({ ca: pem.trim(), serverName: 'hs2.cluster.internal' });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-')), 'ca.pem');
    writeFileSync(file, `${pem}\n${pem}`);
    expect(loadConfig({ ...minimal, HIVE_TLS_CA_FILE: file }).hive.tls?.ca?.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(loadConfig(minimal).hive.tls).toEqual({ ca: undefined, serverName: undefined });
  });

  it('refuses a CA bundle that is not PEM certificates, one it cannot read, both forms at once, and TLS keys without TLS', () => {
    expect(problemsOf({ ...minimal, HIVE_TLS_CA_PEM: 'not a certificate' })).toEqual([
      "HIVE_TLS_CA_PEM: expected PEM text with at least one -----BEGIN CERTIFICATE----- block (got 'not a certificate')",
    ]);
    expect(problemsOf({ ...minimal, HIVE_TLS_CA_PEM: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' })[0]).toMatch(/^HIVE_TLS_CA_PEM: certificate 1 of the bundle does not parse/);
    expect(problemsOf({ ...minimal, HIVE_TLS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
      "HIVE_TLS_CA_FILE: could not read the CA bundle: ENOENT (got '/nonexistent/ca.pem')",
    ]);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cfg-')), 'ca.pem');
    writeFileSync(file, pem);
    expect(problemsOf({ ...minimal, HIVE_TLS_CA_FILE: file, HIVE_TLS_CA_PEM: pem })[0]).toMatch(/^HIVE_TLS_CA_PEM: give the CA bundle once/);
    expect(problemsOf({ ...plainText, HIVE_HOST: '127.0.0.1', HIVE_TLS_SERVER_NAME: 'x' })).toEqual(["HIVE_TLS_SERVER_NAME: only applies with HIVE_TLS=true (got 'x')"]);
    expect(problemsOf({ ...minimal, HIVE_TLS: 'yes' })[0]).toMatch(/^HIVE_TLS: .*"true".*"false".* \(got 'yes'\)$/);
  });

  it('builds the Kerberos settings: principal, keytab from base64 or a file, the service host defaulting to HIVE_HOST', () => {
    const config = loadConfig({ ...minimal, HIVE_AUTH: 'KERBEROS', HIVE_KERBEROS_PRINCIPAL: 'svc-aml@EXAMPLE.COM', HIVE_KERBEROS_KEYTAB: keytab });
    expect(config.hive.kerberos).toEqual({
      principal: 'svc-aml@EXAMPLE.COM',
      keytab: { kind: 'bytes', bytes: Buffer.from(keytab, 'base64') },
      serviceHost: 'hive.internal',
      krb5Conf: undefined,
    });
    const fromFile = loadConfig({
      ...plainText,
      HIVE_AUTH: 'KERBEROS',
      HIVE_KERBEROS_PRINCIPAL: 'svc-aml@EXAMPLE.COM',
      HIVE_KERBEROS_KEYTAB_FILE: '/etc/security/keytabs/svc-aml.keytab',
      HIVE_KERBEROS_SERVICE_HOST: 'hs2-1.cluster.internal',
      HIVE_KRB5_CONF: '/etc/krb5.conf',
    });
    // Kerberos keeps the password off the wire: no TLS demanded.
    expect(fromFile.hive).toMatchObject({ auth: 'KERBEROS', tls: undefined, kerberos: { keytab: { kind: 'file' }, serviceHost: 'hs2-1.cluster.internal', krb5Conf: '/etc/krb5.conf' } });
  });

  it('refuses Kerberos without a principal with a realm, without exactly one keytab, or with a keytab that is not one; never echoes it', () => {
    const kerberos = { ...minimal, HIVE_AUTH: 'KERBEROS' };
    expect(problemsOf(kerberos)).toEqual([
      "HIVE_KERBEROS_PRINCIPAL: required when HIVE_AUTH is KERBEROS (the connector's own principal, e.g. svc-aml@EXAMPLE.COM) (got nothing)",
      'HIVE_KERBEROS_KEYTAB: exactly one of HIVE_KERBEROS_KEYTAB (base64) and HIVE_KERBEROS_KEYTAB_FILE is required when HIVE_AUTH is KERBEROS (got nothing)',
    ]);
    expect(problemsOf({ ...kerberos, HIVE_KERBEROS_PRINCIPAL: 'svc-aml', HIVE_KERBEROS_KEYTAB: keytab })[0]).toMatch(/^HIVE_KERBEROS_PRINCIPAL: expected a principal name\/instance@REALM/);
    expect(problemsOf({ ...kerberos, HIVE_KERBEROS_PRINCIPAL: 'svc@R', HIVE_KERBEROS_KEYTAB: keytab, HIVE_KERBEROS_KEYTAB_FILE: '/k' })[0]).toMatch(/^HIVE_KERBEROS_KEYTAB: exactly one of/);
    const notKeytab = Buffer.from('password123').toString('base64');
    const problems = problemsOf({ ...kerberos, HIVE_KERBEROS_PRINCIPAL: 'svc@R', HIVE_KERBEROS_KEYTAB: notKeytab });
    expect(problems).toEqual(['HIVE_KERBEROS_KEYTAB: expected the base64 of a keytab file (it starts with the bytes 05 02) (got a value (hidden: secret))']);
  });
});

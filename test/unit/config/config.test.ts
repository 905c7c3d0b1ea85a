import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../app/src/config/config.js';

const key = randomBytes(32).toString('base64');
const minimal = {
  HIVE_HOST: 'hive.internal',
  HIVE_USERNAME: 'svc',
  HIVE_PASSWORD: 'hive-secret-value',
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

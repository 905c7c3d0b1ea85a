/**
 * What the stack hands the running code must be what that code accepts. These tests take the
 * synthesized Terraform JSON, resolve its references to values of the shape Azure returns, and
 * feed the result to the real config loaders: the connector's environment (connector.env plus
 * the Key Vault secrets the VM fetches) to app/src/config, the function's app settings to
 * cleanup-function/src/config. A key renamed on one side, a format one side cannot parse, or a
 * value the other side refuses fails here instead of in a crash loop on the VM.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REVOCATIONS_TABLE } from '../../app/src/auth/revocation-stores.js';
import { loadConfig, type Config } from '../../app/src/config/config.js';
import { envSchema, SECRET_KEYS } from '../../app/src/config/schema.js';
import { CLOCK_SKEW_MS } from '../../app/src/storage/blob-sas.js';
import { loadCleanupConfig } from '../../cleanup-function/src/config.js';
import { configWith, synthesize, type Json, type Synthesized } from './synth.js';
import { VM_PATHS } from '../../infra/connector-bootstrap.js';
import { HIVE_SERVER_NAME, KRB5_CONF, REALM, kerberosPatch, keytabBase64, testCaPem } from './hive-fixtures.js';
import { keyVaultSecret, resolve, vmSettings } from './vm-settings.js';

/**
 * Secrets as Key Vault holds them: generated keys are 32 random bytes in base64, the keytab the
 * base64 of a keytab file (what the variable's validation admits), the rest any text.
 */
function fetchedSecrets(secretMap: string): Record<string, string> {
  return Object.fromEntries(
    secretMap.split(' ').map((pair) => {
      const env = pair.slice(0, pair.indexOf('='));
      if (env === 'HIVE_KERBEROS_KEYTAB') return [env, keytabBase64()];
      return [env, env.endsWith('_KEY') ? randomBytes(32).toString('base64') : `${env.toLowerCase()}-${randomBytes(8).toString('hex')}`];
    }),
  );
}

interface ConnectorStart {
  env: Record<string, string>;
  settings: Record<string, string>;
  config: Config;
}

/** Where the files fetch-secrets would write on the VM go in these tests; removed after the file's tests. */
let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'contract-vm-'));
  return scratch;
}
afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

/** Everything the connector process sees on the VM, loaded the way it loads it. */
function connectorStart(s: Synthesized): ConnectorStart {
  const { connectorEnv, bootstrap: settings } = vmSettings(s);
  const env = { ...connectorEnv, ...fetchedSecrets(settings.SECRET_MAP ?? '') };
  // fetch-secrets writes the Hive CA bundle from Key Vault to this path at every start
  // (bootstrap.test.ts shows it); here what the stack writes into the vault stands in for it.
  if (env.HIVE_TLS_CA_FILE !== undefined) {
    expect(env.HIVE_TLS_CA_FILE).toBe(VM_PATHS.hiveTlsCa);
    const ca = keyVaultSecret(s, settings.HIVE_TLS_CA_SECRET_NAME ?? '')?.literal;
    if (ca === undefined) throw new Error(`HIVE_TLS_CA_FILE is set but Key Vault gets no literal secret ${settings.HIVE_TLS_CA_SECRET_NAME}`);
    env.HIVE_TLS_CA_FILE = join(scratchDir(), `ca-${randomBytes(4).toString('hex')}.pem`);
    writeFileSync(env.HIVE_TLS_CA_FILE, `${ca}\n`);
  }
  return { env, settings, config: loadConfig(env) };
}

function cleanupSettings(s: Synthesized): Record<string, string> {
  const settings = s.only('azurerm_function_app_flex_consumption').app_settings as Record<string, string>;
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [key, value.replace(/\$\{([^}]+)\}/g, (_all, expression: string) => resolve(expression))]),
  );
}

const VARIANTS: [string, unknown][] = [
  ['the committed example (blob, own certificate, SQLite)', {}],
  ['ACME on a public IP', { tls: { mode: 'acme' }, network: { apiAllowedCidrs: ['0.0.0.0/0'], publicIp: { enabled: true, dnsLabel: 'enos-export' } } }],
  ['local storage behind its own certificate', { storage: { method: 'local' } }],
  ['local storage behind ACME', { storage: { method: 'local' }, tls: { mode: 'acme' }, network: { apiAllowedCidrs: ['0.0.0.0/0'], publicIp: { enabled: true, dnsLabel: 'enos-export' } } }],
  ['three instances on the Table job store', { vm: { instanceCount: 3 } }],
  ['Hive over HTTP without SASL', { hadoop: { hive: { transport: 'http', port: 10001, auth: 'NOSASL', username: undefined, tls: { enabled: false, serverName: undefined } } } }],
  ['one-day exports', { exports: { defaultTtlMinutes: 1440, maxTtlMinutes: 1440 } }],
  ['Hive PLAIN over TLS with the cluster CA', { hadoop: { hive: { tls: { enabled: true, caPem: testCaPem(), serverName: HIVE_SERVER_NAME } } } }],
  ['Hive PLAIN without TLS, explicitly accepted', { hadoop: { hive: { tls: { enabled: false, serverName: undefined, insecureAllowPlainWithoutTls: true } } } }],
  ['Hive with Kerberos over TLS', kerberosPatch()],
  ['Hive with Kerberos over HTTP, Hive 2.3, per-user impersonation', kerberosPatch({}, { transport: 'http', port: 10001, serverVersion: '2.3', impersonation: { mode: 'proxy-user', proxyUserTemplate: 'enos_{username}' } })],
];

describe('the connector starts with what the VM is given', () => {
  it.each(VARIANTS)('%s: connector.env plus the fetched secrets pass the connector config schema', (_name, patch) => {
    const s = synthesize(configWith(patch));
    const { config, env } = connectorStart(s);
    expect(config.storage.method).toBe(s.config.storage.method);
    expect(config.exports.maxTtlMinutes).toBe(s.config.exports.maxTtlMinutes);
    expect(config.jobs.store.kind).toBe(s.config.vm.instanceCount > 1 ? 'table' : 'sqlite');
    expect(config.auth.orgAccess).toEqual(s.config.orgAccess);
    if (s.config.tls.mode === 'keyvault') expect(config.http.tls).toEqual({ certFile: env.TLS_CERT_FILE, keyFile: env.TLS_KEY_FILE });
    else expect(config.http.host).toBe('127.0.0.1');
  });

  it('Hive TLS: the connector verifies HiveServer2 against the CA from Key Vault, under the configured name', () => {
    const { config } = connectorStart(synthesize(configWith({ hadoop: { hive: { tls: { enabled: true, caPem: testCaPem(), serverName: HIVE_SERVER_NAME } } } })));
    expect(config.hive.tls).toEqual({ ca: testCaPem().trim(), serverName: HIVE_SERVER_NAME });
  });

  it('Hive TLS without a CA: the public CAs, and no CA file to fetch', () => {
    const { config, settings } = connectorStart(synthesize(configWith({})));
    expect(config.hive.tls).toEqual({ ca: undefined, serverName: HIVE_SERVER_NAME });
    expect(settings.HIVE_TLS_CA_SECRET_NAME).toBeUndefined();
  });

  it('PLAIN without TLS starts only with the explicit opt-out, which the stack passes from the config', () => {
    const { env, config } = connectorStart(synthesize(configWith({ hadoop: { hive: { tls: { enabled: false, serverName: undefined, insecureAllowPlainWithoutTls: true } } } })));
    expect(config.hive.tls).toBeUndefined();
    expect(env.HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS).toBe('true');
    // Without the opt-out the connector refuses to start: the refusal the config's check mirrors.
    const { HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS: _optOut, ...without } = env;
    expect(() => loadConfig(without)).toThrow(/HIVE_TLS/);
  });

  it('Kerberos: principal, keytab from Key Vault, service principal host and krb5.conf path reach the connector', () => {
    const { config, env, settings } = connectorStart(synthesize(configWith(kerberosPatch())));
    expect(config.hive.auth).toBe('KERBEROS');
    expect(config.hive.kerberos).toMatchObject({
      principal: `svc-aml@${REALM}`,
      serviceHost: HIVE_SERVER_NAME,
      krb5Conf: VM_PATHS.krb5Conf,
      keytab: { kind: 'bytes', bytes: Buffer.from(env.HIVE_KERBEROS_KEYTAB ?? '', 'base64') },
    });
    expect(config.hive.kerberosService).toBe('hive');
    expect(config.hive.password).toBeUndefined();
    expect(settings.SECRET_MAP).toContain('HIVE_KERBEROS_KEYTAB=hive-kerberos-keytab');
    expect(settings.SECRET_MAP).not.toContain('HIVE_PASSWORD');
    // The file HIVE_KRB5_CONF names is the krb5.conf of the deploy config (the bootstrap writes it there).
    expect(Buffer.from(settings.KRB5_CONF_B64 ?? '', 'base64').toString('utf8')).toBe(KRB5_CONF);
  });

  it('the Hive version and impersonation reach the connector', () => {
    const { config } = connectorStart(synthesize(configWith({ hadoop: { hive: { serverVersion: '4.0', impersonation: { mode: 'proxy-user', proxyUserTemplate: 'enos_{username}' } } } })));
    expect(config.hive).toMatchObject({ serverVersion: '4.0', impersonation: 'proxy-user', proxyUserTemplate: 'enos_{username}' });
    const auto = connectorStart(synthesize(configWith({}))).config.hive;
    expect(auto.serverVersion).toBeUndefined();
    expect(auto.impersonation).toBe('none');
  });

  it('every secret the VM fetches is a key the connector reads, and keeps out of its logs', () => {
    const known = Object.keys(envSchema.shape);
    const redacted: readonly string[] = SECRET_KEYS;
    for (const patch of [{}, kerberosPatch()]) {
      const { settings } = connectorStart(synthesize(configWith(patch)));
      const fetched = (settings.SECRET_MAP ?? '').split(' ').map((pair) => pair.slice(0, pair.indexOf('=')));
      expect(fetched.length).toBeGreaterThan(3);
      for (const env of fetched) {
        expect(known).toContain(env);
        expect(redacted).toContain(env);
      }
    }
  });

  it('Hive over HTTP posts to a path thrift can send (a request target starts with "/")', () => {
    for (const httpPath of [undefined, 'cliservice', '/gateway/default/hive']) {
      const s = synthesize(configWith({ hadoop: { hive: { transport: 'http', port: 10001, ...(httpPath ? { httpPath } : {}) } } }));
      const { config } = connectorStart(s);
      expect(config.hive.httpPath).toMatch(/^\//);
      if (httpPath?.startsWith('/')) expect(config.hive.httpPath).toBe(httpPath);
    }
  });

  it('local downloads carry the public https name the certificate is for', () => {
    const { config } = connectorStart(synthesize(configWith({ storage: { method: 'local' } })));
    expect(config.http.publicBaseUrl).toBe('https://enos-export.example.internal');
  });
});

describe('the SAS expiration policy admits the links the connector signs', () => {
  it.each([1440, 4320, 10_080])('maxTtlMinutes %i: a link for a full-lifetime export signed at once is within the policy', (maxTtlMinutes) => {
    const s = synthesize(configWith({ exports: { defaultTtlMinutes: Math.min(1440, maxTtlMinutes), maxTtlMinutes } }));
    const exportsAccount = Object.values(s.resources('azurerm_storage_account')).find((account) => metadataEndsWith(account, 'storage/storage/account'));
    const period = String((exportsAccount?.sas_policy as Json | undefined)?.expiration_period);
    const [days, clock] = period.split('.');
    const [hours, minutes, seconds] = (clock ?? '').split(':').map(Number);
    const periodMs = ((Number(days) * 24 + (hours ?? 0)) * 60 + (minutes ?? 0)) * 60_000 + (seconds ?? 0) * 1000;
    // The connector signs with a start CLOCK_SKEW_MS in the past; Azure measures start to expiry.
    // A user-delegation SAS never exceeds 7 days, so above that the policy cannot bite.
    const interval = Math.min(maxTtlMinutes * 60_000 + CLOCK_SKEW_MS, 7 * 24 * 3600_000);
    expect(periodMs).toBeGreaterThanOrEqual(interval);
  });
});

function metadataEndsWith(resource: Json, suffix: string): boolean {
  return String((resource['//'] as { metadata?: { path?: string } } | undefined)?.metadata?.path ?? '').endsWith(`/${suffix}`);
}

describe('the cleanup function starts with its app settings', () => {
  it.each([
    ['one VM (no job table)', {}],
    ['three instances (marks jobs in the shared table)', { vm: { instanceCount: 3 } }],
  ])('%s: the app settings pass the function config schema', (_name, patch) => {
    const s = synthesize(configWith(patch));
    const config = loadCleanupConfig(cleanupSettings(s));
    expect(config.storage.kind).toBe('identity');
    expect(config.container).toBe('exports');
    expect(config.options.maxLifetimeMs).toBe(s.config.exports.maxTtlMinutes * 60_000);
    expect(config.jobTable).toBe(s.config.vm.instanceCount > 1 ? 'exportjobs' : undefined);
  });
});

describe('the Table job store the scaled-out connector opens', () => {
  const s = synthesize(configWith({ vm: { instanceCount: 3 } }));
  // The revocation list's table sits beside the job table (app/src/auth/revocation-stores.ts).
  const tables = (): string[] => {
    const { env } = connectorStart(s);
    return [env.JOBS_TABLE_NAME ?? '', REVOCATIONS_TABLE];
  };

  it('creates every table the connector opens (jobs and revoked sessions)', () => {
    const deployment = s.at('azurerm_resource_group_template_deployment', 'storage/jobs_table');
    const parameters = JSON.parse(String(deployment.parameters_content)) as { tableNames?: { value: string[] } };
    expect(parameters.tableNames?.value.sort()).toEqual(tables().sort());
  });

  it("grants the connector's identity Table data access to every table it opens", () => {
    const grants = Object.values(s.resources('azurerm_role_assignment')).filter(
      (assignment) => assignment.role_definition_name === 'Storage Table Data Contributor' && String(assignment.principal_id).includes('azurerm_user_assigned_identity.connector_identity'),
    );
    for (const table of tables()) {
      const covered = grants.some((grant) => String(grant.scope).endsWith('/tableServices/default') || String(grant.scope).endsWith(`/tables/${table}`));
      expect(covered, `no Table data grant of the connector covers table ${table}`).toBe(true);
    }
  });
});

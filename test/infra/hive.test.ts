/**
 * Hive over TLS and Kerberos in the synthesized stack: what the VM is told (connector.env,
 * bootstrap.env), what goes into Key Vault and what never goes anywhere else, the keytab
 * variable's plan-time check, and how a CA change rolls out. What the connector does with these
 * settings is contract.test.ts; what the VM does with them is bootstrap.test.ts; the KDC rules
 * are network.test.ts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../app/src/config/schema.js';
import { KEYTAB_BASE64_PATTERN } from '../../infra/constructs/connector-secrets.js';
import { VM_PATHS } from '../../infra/connector-bootstrap.js';
import { HIVE_SERVER_NAME, KRB5_CONF, REALM, kerberosPatch, keytabBase64, testCaPem } from './hive-fixtures.js';
import { configWith, synthesize, type Json, type Synthesized } from './synth.js';
import { keyVaultSecret, vmSettings } from './vm-settings.js';

function customData(s: Synthesized): string {
  return Buffer.from(String(s.only('azurerm_linux_virtual_machine').custom_data), 'base64').toString('utf8');
}

describe('Hive over TLS with the cluster CA, and Kerberos', () => {
  const s = synthesize(configWith(kerberosPatch()));
  const { connectorEnv, bootstrap } = vmSettings(s);
  const ca = s.config.hadoop.hive.tls.caPem ?? '';

  it('tells the connector TLS, the CA file, the server name, the principal, the service host and krb5.conf', () => {
    expect(connectorEnv).toMatchObject({
      HIVE_AUTH: 'KERBEROS',
      HIVE_TLS: 'true',
      HIVE_TLS_CA_FILE: VM_PATHS.hiveTlsCa,
      HIVE_TLS_SERVER_NAME: HIVE_SERVER_NAME,
      HIVE_KERBEROS_PRINCIPAL: `svc-aml@${REALM}`,
      HIVE_KERBEROS_SERVICE: 'hive',
      HIVE_KERBEROS_SERVICE_HOST: HIVE_SERVER_NAME,
      HIVE_KRB5_CONF: VM_PATHS.krb5Conf,
      HIVE_SERVER_VERSION: 'auto',
      HIVE_IMPERSONATION: 'none',
    });
    for (const key of ['HIVE_USERNAME', 'HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS', 'HIVE_TLS_CA_PEM', 'HIVE_KERBEROS_KEYTAB', 'HIVE_KERBEROS_KEYTAB_FILE']) {
      expect(connectorEnv[key], key).toBeUndefined();
    }
    // Every key is one the connector reads.
    for (const key of Object.keys(connectorEnv)) if (key.startsWith('HIVE_')) expect(Object.keys(envSchema.shape)).toContain(key);
  });

  it('tells the bootstrap which secret holds the CA and its hash, where kinit comes from, and the krb5.conf', () => {
    expect(bootstrap.SECRET_MAP?.split(' ')).toContain('HIVE_KERBEROS_KEYTAB=hive-kerberos-keytab');
    expect(bootstrap.SECRET_MAP).not.toContain('HIVE_PASSWORD');
    expect(bootstrap).toMatchObject({
      HIVE_TLS_CA_SECRET_NAME: 'hive-tls-ca',
      HIVE_TLS_CA_SHA256: createHash('sha256').update(ca).digest('hex'),
      KERBEROS_CLIENT: 'apt',
    });
    expect(Buffer.from(bootstrap.KRB5_CONF_B64 ?? '', 'base64').toString('utf8')).toBe(KRB5_CONF);
  });

  it('writes the CA bundle (from the config) and the keytab (from its sensitive variable) into Key Vault, and no Hive password', () => {
    expect(keyVaultSecret(s, 'hive-tls-ca')).toEqual({ literal: ca });
    expect(ca).toBe(testCaPem().trim());
    expect(keyVaultSecret(s, 'hive-kerberos-keytab')).toEqual({ expression: 'var.hive_kerberos_keytab' });
    expect(keyVaultSecret(s, 'hive-password')).toBeUndefined();
    expect(s.json.variable?.hive_password).toBeUndefined();
    const template = JSON.parse(String(s.at('azurerm_resource_group_template_deployment', 'key_vault/secrets').template_content)) as {
      resources: { name: string; properties: { contentType: string } }[];
    };
    const contentType = (name: string) => template.resources.find((resource) => resource.name.endsWith(`'${name}')]`))?.properties.contentType;
    expect(contentType('hive-tls-ca')).toBe('application/x-pem-file');
    expect(contentType('hive-kerberos-keytab')).toBe('text/plain');
  });

  it('puts neither the keytab nor the CA nor the krb5.conf in custom data: it is the same as without Hive TLS and Kerberos', () => {
    const plain = synthesize(configWith({}));
    expect(customData(s)).toBe(customData(plain));
    expect(customData(s)).not.toMatch(/hive_kerberos_keytab|KRB5|BEGIN CERTIFICATE/);
    // The keytab reaches Azure only through the Key Vault template deployment.
    for (const [type, resources] of Object.entries(s.json.resource)) {
      for (const resource of Object.values(resources)) {
        if (JSON.stringify(resource).includes('var.hive_kerberos_keytab')) expect(type).toBe('azurerm_resource_group_template_deployment');
      }
    }
  });
});

describe('the keytab variable', () => {
  const s = synthesize(configWith(kerberosPatch()));
  const variable = s.json.variable?.hive_kerberos_keytab as Json & { validation: { condition: string; error_message: string }[] };

  it('is sensitive, has no default, and is checked at plan with a message that says how to make it', () => {
    expect(variable).toMatchObject({ type: 'string', sensitive: true, nullable: false });
    expect(variable.default).toBeUndefined();
    const [validation] = variable.validation;
    expect(validation?.condition).toBe(`\${can(regex("${KEYTAB_BASE64_PATTERN}", var.hive_kerberos_keytab)) && length(var.hive_kerberos_keytab) % 4 == 0}`);
    expect(validation?.error_message).toMatch(/^The hive_kerberos_keytab variable must be .*base64 -w0.*\.$/);
  });

  // Terraform's regex is RE2; this pattern means the same in JavaScript.
  const admitted = (value: string) => new RegExp(KEYTAB_BASE64_PATTERN).test(value) && value.length % 4 === 0;
  const keytabSchema = envSchema.shape.HIVE_KERBEROS_KEYTAB;

  it("admits `base64 -w0` of a keytab, which the connector's own check accepts too", () => {
    for (let i = 0; i < 20; i++) {
      const value = keytabBase64();
      expect(admitted(value), value).toBe(true);
      expect(keytabSchema.safeParse(value).success).toBe(true);
    }
  });

  it('refuses what would fail on the VM: wrapped base64 (the VM refuses multi-line secrets), a path, a file that is not a keytab', () => {
    const wrapped = keytabBase64().replace(/(.{76})/g, '$1\n');
    expect(wrapped).toContain('\n');
    for (const value of [wrapped, '/etc/security/keytabs/svc-aml.keytab', Buffer.from('not a keytab').toString('base64'), keytabBase64().slice(0, -1)]) {
      expect(admitted(value), value).toBe(false);
    }
    expect(keytabSchema.safeParse(Buffer.from('not a keytab').toString('base64')).success).toBe(false);
  });
});

describe('rollout', () => {
  it('a new CA bundle changes the deploy extension (the VMs fetch it again and restart) but not the custom data', () => {
    const before = synthesize(configWith(kerberosPatch()));
    const after = synthesize(configWith(kerberosPatch({}, { tls: { enabled: true, caPem: testCaPem('Hadoop Test CA 2026'), serverName: HIVE_SERVER_NAME } })));
    expect(vmSettings(after).bootstrap.HIVE_TLS_CA_SHA256).not.toBe(vmSettings(before).bootstrap.HIVE_TLS_CA_SHA256);
    expect(customData(after)).toBe(customData(before));
  });

  it('without Kerberos the VM is told nothing about it, and without a CA nothing about one', () => {
    const { connectorEnv, bootstrap } = vmSettings(synthesize(configWith({})));
    expect(Object.keys(connectorEnv).filter((key) => /KERBEROS|KRB5/.test(key))).toEqual([]);
    expect(Object.keys(bootstrap).filter((key) => /KERBEROS|KRB5|HIVE_TLS_CA/.test(key))).toEqual([]);
    expect(connectorEnv).toMatchObject({ HIVE_TLS: 'true', HIVE_TLS_SERVER_NAME: HIVE_SERVER_NAME });
  });
});

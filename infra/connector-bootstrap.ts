/**
 * What the stack hands the connector VMs: the cloud-init custom data (first boot: Node.js, user,
 * TLS front), the CustomScript extension's script (every deploy: settings, bundle, unit), and the
 * two settings files. None of it carries a secret: the VM reads those from Key Vault at service
 * start (see infra/vm/enos-connector-bootstrap.sh).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BOOTSTRAP_SCRIPT_FILE = fileURLToPath(new URL('./vm/enos-connector-bootstrap.sh', import.meta.url));
/** Where the script lives on the VM; the systemd unit's ExecStartPre points here. */
export const BOOTSTRAP_SCRIPT_TARGET = '/usr/local/sbin/enos-connector-bootstrap';

/** Key Vault secret names, and the connector environment variable each one feeds. */
export const SECRET_ENV = {
  ENOS_APP_SECRET: 'enos-app-secret',
  SESSION_SIGNING_KEY: 'session-signing-key',
  URL_SIGNING_KEY: 'url-signing-key',
  FILE_ENCRYPTION_KEY: 'file-encryption-key',
  HIVE_PASSWORD: 'hive-password',
  HIVE_KERBEROS_KEYTAB: 'hive-kerberos-keytab',
} as const;
export const TLS_SECRET_NAME = 'connector-tls';
/**
 * The CA bundle of HiveServer2's certificate. PEM spans lines, which an environment line cannot
 * hold, so fetch-secrets writes it to VM_PATHS.hiveTlsCa instead (HIVE_TLS_CA_FILE).
 */
export const HIVE_TLS_CA_SECRET_NAME = 'hive-tls-ca';
/** Every Key Vault secret name the stack may write; a platform team's own objects must not clash. */
export const STACK_SECRET_NAMES: readonly string[] = [...Object.values(SECRET_ENV), TLS_SECRET_NAME, HIVE_TLS_CA_SECRET_NAME];

/** Paths on the VM that the connector's settings point at. */
export const VM_PATHS = {
  stateDir: '/var/lib/enos-connector',
  localExportDir: '/var/lib/enos-connector/exports',
  sqliteFile: '/var/lib/enos-connector/jobs.sqlite',
  tlsCert: '/run/enos-connector/tls/cert.pem',
  tlsKey: '/run/enos-connector/tls/key.pem',
  /** Written by fetch-secrets at every start (from HIVE_TLS_CA_SECRET_NAME). */
  hiveTlsCa: '/run/enos-connector/hive/ca.pem',
  /** Written by deploy (from KRB5_CONF_B64 in bootstrap.env); not a secret. */
  krb5Conf: '/etc/enos-connector/krb5.conf',
} as const;

let scriptCache: string | undefined;
export function bootstrapScript(): string {
  scriptCache ??= readFileSync(BOOTSTRAP_SCRIPT_FILE, 'utf8');
  return scriptCache;
}

/**
 * systemd EnvironmentFile lines, every value single-quoted: inside single quotes systemd takes
 * everything literally, so JSON (ORG_ACCESS) and URLs survive verbatim with no escaping. Values
 * may hold Terraform references; those contain no quote either.
 */
export function renderEnvFile(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([key, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`renderEnvFile: got key "${key}"; expected UPPER_SNAKE_CASE`);
      if (/[\r\n'\\]/.test(value)) {
        throw new Error(`renderEnvFile: ${key} holds a newline, single quote or backslash; expected a single line without them`);
      }
      return `${key}='${value}'\n`;
    })
    .join('');
}

/** Plain KEY=value lines for the bootstrap script, which parses them as data (never sources them). */
export function renderSettingsFile(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([key, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`renderSettingsFile: got key "${key}"; expected UPPER_SNAKE_CASE`);
      if (/[\r\n\\]/.test(value)) throw new Error(`renderSettingsFile: ${key} holds a newline or backslash; expected a single line without them`);
      return `${key}=${value}\n`;
    })
    .join('');
}

/**
 * cloud-init for first boot: drop the bootstrap script in place and prepare the machine. It is
 * static per TLS mode, so changing a setting never replaces the VM: later changes arrive through
 * the extension.
 */
export function renderCloudInit(options: { tlsMode: 'acme' | 'keyvault' }): string {
  const script = Buffer.from(bootstrapScript()).toString('base64');
  return [
    '#cloud-config',
    'package_update: false',
    'write_files:',
    `  - path: ${BOOTSTRAP_SCRIPT_TARGET}`,
    '    owner: root:root',
    "    permissions: '0755'",
    '    encoding: b64',
    `    content: ${script}`,
    'runcmd:',
    `  - [${BOOTSTRAP_SCRIPT_TARGET}, prepare, --tls-mode, ${options.tlsMode}]`,
    '',
  ].join('\n');
}

/**
 * The CustomScript extension's script: install the current bootstrap script, then deploy with
 * the settings. Its text embeds the bundle hash, so a new bundle (or any setting change) changes
 * the extension and Azure runs it again: the rollout needs no SSH.
 *
 * `bootstrapEnvBase64` and `connectorEnvBase64` may be Terraform expressions (base64encode of
 * text that holds resource attributes); they only ever contain base64 characters once resolved.
 */
export function renderExtensionScript(options: { bootstrapEnvBase64: string; connectorEnvBase64: string }): string {
  const script = Buffer.from(bootstrapScript()).toString('base64');
  return [
    '#!/bin/bash',
    '# Written by the enos-aml-connector stack for the CustomScript extension.',
    'set -euo pipefail',
    '# On first boot the extension can start before cloud-init has prepared the machine.',
    'cloud-init status --wait >/dev/null 2>&1 || true',
    `install -d -m 0755 "$(dirname ${BOOTSTRAP_SCRIPT_TARGET})"`,
    `printf '%s' '${script}' | base64 -d > ${BOOTSTRAP_SCRIPT_TARGET}.new`,
    `chmod 0755 ${BOOTSTRAP_SCRIPT_TARGET}.new`,
    `mv -f ${BOOTSTRAP_SCRIPT_TARGET}.new ${BOOTSTRAP_SCRIPT_TARGET}`,
    `exec ${BOOTSTRAP_SCRIPT_TARGET} deploy --bootstrap-env-b64 '${options.bootstrapEnvBase64}' --connector-env-b64 '${options.connectorEnvBase64}'`,
    '',
  ].join('\n');
}

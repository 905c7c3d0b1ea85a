/**
 * The connector's whole configuration as one zod schema over flat, environment-style keys.
 * Flat keys keep the mapping to systemd EnvironmentFiles and Key Vault secrets one-to-one; the
 * transform at the end builds the nested, typed `Config` the rest of the code reads.
 * Every key is documented in app/README.md; keep the two in step.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { isLoopbackHost } from '../loopback.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z.string().trim().min(1).optional();

/** A secret given as base64 (or hex with a `hex:` prefix) that must decode to at least `minBytes`. */
const secretBytes = (minBytes: number, exactBytes?: number) =>
  z
    .string()
    .transform((value, ctx) => {
      const bytes = value.startsWith('hex:') ? Buffer.from(value.slice(4), 'hex') : Buffer.from(value, 'base64');
      const ok = exactBytes === undefined ? bytes.length >= minBytes : bytes.length === exactBytes;
      if (!ok) {
        ctx.addIssue({
          code: 'custom',
          message: `expected base64 (or hex:…) of ${exactBytes ?? `at least ${minBytes}`} bytes, got ${bytes.length} bytes`,
        });
        return z.NEVER;
      }
      return bytes;
    });

const jsonOf = <T extends z.ZodType>(schema: T) =>
  z.string().transform((value, ctx): z.output<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON document' });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(root)'}: ${issue.message}` });
      }
      return z.NEVER;
    }
    return result.data;
  });


/** An https:// URL, or http:// to a loopback host (the local stack's stand-ins). */
const secureUrl = (why: string) =>
  z.url().refine((value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  }, `expected an https:// URL (http:// only to a loopback host): ${why}`);

/**
 * Express `trust proxy`, restricted to what Express reads the way it looks: a hop count, or
 * addresses, CIDR ranges and the names loopback/linklocal/uniquelocal. Express takes any other
 * word for an IP address (and throws only when the app is built), and reads the string "1" as
 * the address 0.0.0.1; `true` is refused because it trusts every client's X-Forwarded-For.
 */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isProxyEntry = (entry: string): boolean => {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
};
const trustProxy = z
  .string()
  .trim()
  .refine(
    (value) => /^\d{1,2}$/.test(value) || value.split(',').every((entry) => isProxyEntry(entry.trim())),
    'expected a hop count or a comma-separated list of loopback, linklocal, uniquelocal, IP addresses and CIDR ranges',
  )
  .transform((value): string | number => (/^\d+$/.test(value) ? Number(value) : value));

/** 'true' / 'false' (as systemd EnvironmentFiles and Key Vault write them); anything else is refused. */
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

/** Every PEM certificate block in `text`, each checked to parse as X.509. */
function pemCertificates(text: string): string[] | string {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'expected PEM text with at least one -----BEGIN CERTIFICATE----- block';
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return `certificate ${index + 1} of the bundle does not parse: ${(error as Error).message}`;
    }
  }
  return blocks;
}

/** A CA bundle given inline (PEM text, as Key Vault hands it over). */
const inlineCaBundle = z.string().transform((value, ctx) => {
  const certs = pemCertificates(value);
  if (typeof certs === 'string') {
    ctx.addIssue({ code: 'custom', message: certs });
    return z.NEVER;
  }
  return certs.join('\n');
});

/** A CA bundle named by path; read once at start so a missing file fails the start, not the first export. */
const caBundleFile = z.string().transform((file, ctx) => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `could not read the CA bundle: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
    return z.NEVER;
  }
  const certs = pemCertificates(text);
  if (typeof certs === 'string') {
    ctx.addIssue({ code: 'custom', message: certs });
    return z.NEVER;
  }
  return { file, pem: certs.join('\n') };
});

/** A keytab (MIT format, version 0x0502) as base64, as Key Vault stores binary secrets. */
const keytabBytes = z.string().transform((value, ctx) => {
  const bytes = Buffer.from(value.replace(/\s+/g, ''), 'base64');
  if (bytes.length < 2 || bytes[0] !== 0x05 || bytes[1] !== 0x02) {
    ctx.addIssue({ code: 'custom', message: 'expected the base64 of a keytab file (it starts with the bytes 05 02)' });
    return z.NEVER;
  }
  return bytes;
});

/** A Kerberos principal, `name[/instance]@REALM`; the realm is required so no default realm guesses. */
const kerberosPrincipal = z
  .string()
  .trim()
  .regex(/^[^\s@/]+(\/[^\s@/]+)?@[^\s@]+$/, 'expected a principal name/instance@REALM or name@REALM');

const tableName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'expected a table name');
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a Hive identifier');
const orgAccessSchema = z.record(
  z.string().min(1),
  z.object({
    databases: z.array(identifier).min(1),
    /** `db.table` entries; when present only these tables of the databases are readable. */
    tables: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'expected db.table')).optional(),
  }),
);

export const envSchema = z
  .object({
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HOST: z.string().default('127.0.0.1'),
    PORT: int(0, 65535).default(8080),
    PUBLIC_BASE_URL: secureUrl('download URLs are bearer grants').optional(),
    TLS_CERT_FILE: optionalString,
    TLS_KEY_FILE: optionalString,
    TRUST_PROXY: trustProxy.default('loopback'),
    INSTANCE_ID: optionalString,
    AZURE_CLIENT_ID: z.uuid().optional(),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(b|kb|mb)?$/i, 'expected a size such as 64kb, 1mb or a number of bytes')
      .default('64kb'),

    HIVE_HOST: z.string().min(1),
    HIVE_PORT: int(1, 65535).default(10000),
    HIVE_TRANSPORT: z.enum(['binary', 'http']).default('binary'),
    HIVE_HTTP_PATH: z.string().default('/cliservice'),
    HIVE_AUTH: z.enum(['PLAIN', 'NOSASL', 'KERBEROS']).default('PLAIN'),
    HIVE_USERNAME: optionalString,
    HIVE_PASSWORD: optionalString,
    HIVE_KERBEROS_SERVICE: z.string().default('hive'),
    HIVE_KERBEROS_SERVICE_HOST: optionalString,
    HIVE_KERBEROS_PRINCIPAL: kerberosPrincipal.optional(),
    HIVE_KERBEROS_KEYTAB: keytabBytes.optional(),
    HIVE_KERBEROS_KEYTAB_FILE: optionalString,
    HIVE_KRB5_CONF: optionalString,
    HIVE_TLS: flag.default(false),
    HIVE_TLS_CA_FILE: caBundleFile.optional(),
    HIVE_TLS_CA_PEM: inlineCaBundle.optional(),
    HIVE_TLS_SERVER_NAME: optionalString,
    HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS: flag.default(false),
    HIVE_HTTP_COOKIE_AUTH: flag.default(true),
    HIVE_SESSION_CONF: jsonOf(z.record(z.string(), z.string())).default({}),
    HIVE_DEFAULT_DATABASE: optionalString,
    HIVE_IMPERSONATION: z.enum(['none', 'proxy-user']).default('none'),
    HIVE_PROXY_USER_TEMPLATE: z
      .string()
      .refine((value) => value.includes('{username}'), 'expected a template containing {username}, e.g. {username} or enos_{username}')
      .optional(),
    HIVE_SERVER_VERSION: z.string().regex(/^(auto|\d+\.\d+(\.\S*)?)$/, "expected auto or a Hive version such as 3.1 or 2.3.9").default('auto'),
    HIVE_FETCH_SIZE: int(100, 1_000_000).default(10_000),
    HIVE_POLL_INTERVAL_MS: int(50, 60_000).default(500),
    HIVE_CALL_TIMEOUT_MS: int(1_000, 600_000).default(60_000),
    HIVE_QUERY_TIMEOUT_MINUTES: int(1, 24 * 60).default(120),

    ENOS_BASE_URL: secureUrl('users\' passwords are sent there'),
    ENOS_APP_KEY: optionalString,
    ENOS_APP_SECRET: optionalString,
    ENOS_TIMEOUT_MS: int(100, 60_000).default(5_000),
    ENOS_MAX_RETRIES: int(0, 5).default(2),

    SESSION_SIGNING_KEY: secretBytes(32),
    SESSION_TTL_MINUTES: int(5, 24 * 60).default(60),
    LOGIN_RATE_LIMIT_PER_IP: int(1, 10_000).default(20),
    LOGIN_RATE_LIMIT_PER_ACCOUNT: int(1, 10_000).default(5),
    LOGIN_RATE_WINDOW_SECONDS: int(1, 86_400).default(300),
    ORG_ACCESS: jsonOf(orgAccessSchema),

    STORAGE_METHOD: z.enum(['blob', 'local']).default('blob'),
    BLOB_CONNECTION_STRING: optionalString,
    BLOB_ACCOUNT_URL: z.url().optional(),
    BLOB_CONTAINER: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'expected a container name').default('exports'),
    BLOB_SAS_VERSION: optionalString,
    LOCAL_EXPORT_DIR: z.string().default('.local/exports'),
    LOCAL_MIN_FREE_MB: int(0, 10_000_000).default(1024),
    FILE_ENCRYPTION_KEY: secretBytes(32, 32).optional(),
    URL_SIGNING_KEY: secretBytes(32).optional(),
    STORAGE_TIMEOUT_MS: int(1_000, 3_600_000).default(300_000),

    JOB_STORE: z.enum(['sqlite', 'table']).default('sqlite'),
    SQLITE_FILE: z.string().default('.local/jobs.sqlite'),
    TABLE_CONNECTION_STRING: optionalString,
    TABLE_ACCOUNT_URL: z.url().optional(),
    JOBS_TABLE_NAME: tableName.default('exportjobs'),

    EXPORT_DEFAULT_TTL_MINUTES: int(5, 7 * 24 * 60).default(24 * 60),
    EXPORT_MAX_TTL_MINUTES: int(5, 7 * 24 * 60).default(7 * 24 * 60),
    EXPORT_MAX_ROWS: int(1, Number.MAX_SAFE_INTEGER).default(50_000_000),
    EXPORT_MAX_BYTES: int(1, Number.MAX_SAFE_INTEGER).default(20 * 1024 ** 3),
    /** A result is split into parts of about this many stored bytes (64 KiB at least: tests use that). */
    EXPORT_PART_MAX_BYTES: int(64 * 1024, Number.MAX_SAFE_INTEGER).default(256 * 1024 ** 2),
    /** Worker threads that decode and encode row sets (0: on the main thread). Default: the cores, at most 4. */
    EXPORT_WORKERS: int(0, 32).optional(),
    /** The encode workers' nice value (0 = as the API): exports give way to requests on busy cores. */
    EXPORT_WORKER_NICE: int(0, 19).default(10),
    PREVIEW_TIMEOUT_MS: int(1_000, 600_000).default(30_000),
    PREVIEW_RATE_LIMIT_PER_MINUTE: int(1, 10_000).default(30),
    PREVIEW_MAX_CONCURRENT_PER_USER: int(1, 64).default(2),
    JOBS_MAX_CONCURRENT: int(1, 64).default(4),
    JOBS_MAX_PER_USER: int(1, 64).default(2),
    JOBS_MAX_QUEUED: int(0, 10_000).default(50),
    SWEEP_INTERVAL_SECONDS: int(10, 86_400).default(600),

    AUDIT_RETENTION_DAYS: int(1, 3650).default(400),
    AUDIT_TABLE_NAME: tableName.default('auditevents'),
    /** Organization → account names (or EnOS user ids) who may read the organization's audit trail. */
    AUDITORS: jsonOf(z.record(z.string().min(1), z.array(z.string().min(1)))).default({}),

    ACCESS_TOKEN_MAX_DAYS: int(1, 3650).default(365),
    ACCESS_TOKENS_MAX_PER_USER: int(1, 1000).default(20),
    ACCESS_TOKEN_RATE_LIMIT_PER_MINUTE: int(1, 100_000).default(120),
    ACCESS_TOKENS_TABLE_NAME: tableName.default('accesstokens'),
    ACCOUNT_CHECK_INTERVAL_MINUTES: int(1, 24 * 60).default(15),
    ACCOUNT_CHECK_GRACE_HOURS: int(0, 24 * 30).default(24),

    SCHEDULE_MIN_INTERVAL_SECONDS: int(1, 31 * 86_400).default(900),
    SCHEDULE_TICK_SECONDS: int(1, 3600).default(30),
    SCHEDULES_MAX_PER_USER: int(1, 1000).default(10),
    SCHEDULE_KEEP_MAX: int(1, 100).default(10),
    SCHEDULES_TABLE_NAME: tableName.default('exportschedules'),
    STABLE_LINK_MAX_DAYS: int(1, 3650).default(365),
    STABLE_LINK_REDIRECT_MINUTES: int(1, 7 * 24 * 60).default(60),

    APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().trim().includes('InstrumentationKey=', { error: 'expected an Application Insights connection string (InstrumentationKey=…;IngestionEndpoint=…)' }).optional(),
    TELEMETRY_AUTH: z.enum(['entra', 'key']).default('entra'),
    TELEMETRY_SAMPLING_RATIO: z.coerce.number().min(0).max(1).default(1),
  })
  .superRefine((env, ctx) => {
    const need = (key: keyof typeof env, why: string) => {
      if (env[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required ${why}` });
    };
    if (env.EXPORT_DEFAULT_TTL_MINUTES > env.EXPORT_MAX_TTL_MINUTES) {
      ctx.addIssue({ code: 'custom', path: ['EXPORT_DEFAULT_TTL_MINUTES'], message: `must not exceed EXPORT_MAX_TTL_MINUTES (${env.EXPORT_MAX_TTL_MINUTES})` });
    }
    if (env.HIVE_AUTH === 'PLAIN') {
      need('HIVE_USERNAME', 'when HIVE_AUTH is PLAIN');
      need('HIVE_PASSWORD', 'when HIVE_AUTH is PLAIN');
      // hive.server2.use.SSL=false sends SASL PLAIN / HTTP Basic passwords in clear text.
      if (!env.HIVE_TLS && !isLoopbackHost(env.HIVE_HOST) && !env.HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS) {
        ctx.addIssue({
          code: 'custom',
          path: ['HIVE_TLS'],
          message: `must be true when HIVE_AUTH is PLAIN and HIVE_HOST '${env.HIVE_HOST}' is not loopback: the password would cross the network in clear (set HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS=true to accept that)`,
        });
      }
    }
    if (env.HIVE_AUTH === 'KERBEROS') {
      need('HIVE_KERBEROS_PRINCIPAL', 'when HIVE_AUTH is KERBEROS (the connector\'s own principal, e.g. svc-aml@EXAMPLE.COM)');
      if ((env.HIVE_KERBEROS_KEYTAB === undefined) === (env.HIVE_KERBEROS_KEYTAB_FILE === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['HIVE_KERBEROS_KEYTAB'], message: 'exactly one of HIVE_KERBEROS_KEYTAB (base64) and HIVE_KERBEROS_KEYTAB_FILE is required when HIVE_AUTH is KERBEROS' });
      }
    }
    if (env.HIVE_TLS_CA_FILE !== undefined && env.HIVE_TLS_CA_PEM !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['HIVE_TLS_CA_PEM'], message: 'give the CA bundle once: HIVE_TLS_CA_FILE or HIVE_TLS_CA_PEM, not both' });
    }
    if (!env.HIVE_TLS) {
      for (const key of ['HIVE_TLS_CA_FILE', 'HIVE_TLS_CA_PEM', 'HIVE_TLS_SERVER_NAME'] as const) {
        if (env[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only applies with HIVE_TLS=true' });
      }
    }
    if ((env.ENOS_APP_KEY === undefined) !== (env.ENOS_APP_SECRET === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['ENOS_APP_SECRET'], message: 'ENOS_APP_KEY and ENOS_APP_SECRET go together' });
    }
    if (env.STORAGE_METHOD === 'blob' && !env.BLOB_CONNECTION_STRING && !env.BLOB_ACCOUNT_URL) {
      ctx.addIssue({ code: 'custom', path: ['BLOB_ACCOUNT_URL'], message: 'required when STORAGE_METHOD is blob (or BLOB_CONNECTION_STRING)' });
    }
    if (env.STORAGE_METHOD === 'local') {
      need('FILE_ENCRYPTION_KEY', 'when STORAGE_METHOD is local');
      need('URL_SIGNING_KEY', 'when STORAGE_METHOD is local');
      // Download URLs must be HTTPS off loopback; only an explicit public URL can say what that is.
      if (!isLoopbackHost(env.HOST)) need('PUBLIC_BASE_URL', 'when STORAGE_METHOD is local and HOST is not loopback');
    }
    if (env.JOB_STORE === 'table' && !env.TABLE_CONNECTION_STRING && !env.TABLE_ACCOUNT_URL) {
      ctx.addIssue({ code: 'custom', path: ['TABLE_ACCOUNT_URL'], message: 'required when JOB_STORE is table (or TABLE_CONNECTION_STRING)' });
    }
    if ((env.TLS_CERT_FILE === undefined) !== (env.TLS_KEY_FILE === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['TLS_KEY_FILE'], message: 'TLS_CERT_FILE and TLS_KEY_FILE go together' });
    }
  });

export type Env = z.output<typeof envSchema>;

/** Keys whose values must never appear in logs or error messages. */
export const SECRET_KEYS = [
  'HIVE_PASSWORD',
  'HIVE_KERBEROS_KEYTAB',
  'ENOS_APP_SECRET',
  'SESSION_SIGNING_KEY',
  'FILE_ENCRYPTION_KEY',
  'URL_SIGNING_KEY',
  'BLOB_CONNECTION_STRING',
  'TABLE_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
] as const satisfies readonly (keyof Env)[];

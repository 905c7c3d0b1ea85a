/**
 * The only reader of process.env in the connector. Parses the environment (and an optional JSON
 * file named by CONFIG_FILE, which the environment overrides) once at start, and fails fast with
 * every bad key, what arrived and what was expected — secrets are named, never echoed.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { envSchema, SECRET_KEYS, type Env } from './schema.js';

export interface HiveConfig {
  host: string;
  port: number;
  transport: 'binary' | 'http';
  httpPath: string;
  auth: 'PLAIN' | 'NOSASL' | 'KERBEROS';
  username?: string;
  password?: string;
  kerberosService: string;
  /** TLS to HiveServer2 (hive.server2.use.SSL); absent means plain TCP/HTTP. */
  tls?: HiveTlsConfig;
  /** With auth KERBEROS: the connector's principal, its keytab and the service principal's parts. */
  kerberos?: HiveKerberosConfig;
  /** HTTP transport: reuse HiveServer2's `hive.server2.auth` cookie instead of re-sending credentials. @default true */
  httpCookieAuth?: boolean;
  sessionConf: Record<string, string>;
  defaultDatabase?: string;
  /** `proxy-user`: sessions run as the user's cluster name (hive.server2.proxy.user). */
  impersonation?: 'none' | 'proxy-user';
  /** The cluster user name for an EnOS user; `{username}` is replaced. @default '{username}' */
  proxyUserTemplate?: string;
  /** The cluster's Hive version (`3.1`), when known; otherwise asked with GetInfo once. */
  serverVersion?: string;
  fetchSize: number;
  pollIntervalMs: number;
  callTimeoutMs: number;
  queryTimeoutMs: number;
}

export interface HiveTlsConfig {
  /** PEM certificates to trust instead of Node's public CA list. @default - the public CAs */
  ca?: string;
  /** Name the server certificate must carry, also sent as SNI. @default - the Hive host */
  serverName?: string;
}

export interface HiveKerberosConfig {
  /** The connector's own principal, e.g. `svc-aml@EXAMPLE.COM`. */
  principal: string;
  keytab: { kind: 'file'; file: string } | { kind: 'bytes'; bytes: Buffer };
  /** Host part of HiveServer2's principal `hive/<host>@REALM` (Hive's `_HOST`). @default - the Hive host */
  serviceHost: string;
  /** krb5.conf to use instead of the system's /etc/krb5.conf. */
  krb5Conf?: string;
}

export type BlobConfig =
  | { kind: 'connectionString'; connectionString: string; container: string; sasVersion?: string }
  | { kind: 'managedIdentity'; accountUrl: string; container: string; sasVersion?: string };

export type JobStoreConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'table'; tableName: string; connectionString?: string; accountUrl?: string };

export interface Config {
  logLevel: Env['LOG_LEVEL'];
  instanceId: string;
  /** Client id of a user-assigned managed identity; absent means the system-assigned one. */
  azureClientId?: string;
  http: {
    host: string;
    port: number;
    publicBaseUrl?: string;
    tls?: { certFile: string; keyFile: string };
    /** Express `trust proxy`: a hop count, or a list of trusted proxy addresses. */
    trustProxy: string | number;
    bodyLimit: string;
  };
  hive: HiveConfig;
  enos: { baseUrl: string; appKey?: string; appSecret?: string; timeoutMs: number; maxRetries: number };
  auth: {
    sessionSigningKey: Buffer;
    sessionTtlMinutes: number;
    loginRateLimit: { perIp: number; perAccount: number; windowSeconds: number };
    orgAccess: Env['ORG_ACCESS'];
  };
  /** `timeoutMs`: the most one storage call may take (a Blob request with its retries, a disk operation). */
  storage:
    | { method: 'blob'; timeoutMs: number; blob: BlobConfig }
    | { method: 'local'; timeoutMs: number; dir: string; minFreeBytes: number; encryptionKey: Buffer; urlSigningKey: Buffer };
  jobs: {
    store: JobStoreConfig;
    maxConcurrent: number;
    maxPerUser: number;
    maxQueued: number;
    sweepIntervalMs: number;
  };
  exports: {
    defaultTtlMinutes: number;
    maxTtlMinutes: number;
    maxRows: number;
    maxBytes: number;
    /** Stored bytes at which a part of a large result is closed and the next one begins. */
    partMaxBytes: number;
    /** Encode worker threads (encode-pool.ts); 0 runs encoding on the main thread. */
    workers: number;
    /** Their threads' nice value (thread-priority.ts). */
    workerNice: number;
  };
  /** Synchronous previews: their deadline, and how many one user may start per minute and run at once. */
  previews: { timeoutMs: number; ratePerMinute: number; maxConcurrentPerUser: number };
  audit: {
    retentionDays: number;
    /** Table of the audit trail when JOB_STORE is table. */
    tableName: string;
    /** Organization → account names or user ids of its auditors. */
    auditors: Record<string, string[]>;
  };
  accessTokens: { maxDays: number; maxPerUser: number; ratePerMinute: number; tableName: string };
  /** How often EnOS is asked whether an account still exists and may sign in, and how long a stale answer is trusted. */
  accountCheck: { intervalMs: number; graceMs: number };
  schedules: {
    minIntervalSeconds: number;
    tickMs: number;
    maxPerUser: number;
    maxKeep: number;
    tableName: string;
    linkMaxDays: number;
    redirectMinutes: number;
  };
  /** Absent: no telemetry is exported (and the exporter is never loaded). */
  telemetry?: { connectionString: string; auth: 'entra' | 'key'; samplingRatio: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const SECRET = new Set<string>(SECRET_KEYS);

function describeValue(key: string, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (SECRET.has(key)) return 'a value (hidden: secret)';
  const text = String(value);
  return `'${text.length > 60 ? `${text.slice(0, 57)}...` : text}'`;
}

/** Where JSON.parse stopped, as "line L, column C"; V8 names a position for most errors. */
function jsonErrorAt(text: string, error: unknown): string {
  const match = /at position (\d+)/.exec(error instanceof Error ? error.message : '');
  if (!match) return '';
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

function readConfigFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`CONFIG_FILE: could not read '${file}': ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Not the parser's message: V8 quotes the text around the error, and the file holds secrets.
    throw new ConfigError([`CONFIG_FILE: '${file}' is not valid JSON${jsonErrorAt(text, error)}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`CONFIG_FILE: expected a JSON object of configuration keys in '${file}'`]);
  }
  const unknown = Object.keys(parsed).filter((key) => !Object.hasOwn(envSchema.shape, key));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((key) => `CONFIG_FILE: unknown key '${key}' (see app/README.md for the keys)`));
  }
  // Nested values (ORG_ACCESS, HIVE_SESSION_CONF) may be written as JSON in the file.
  return Object.fromEntries(
    Object.entries(parsed).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromFile = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  const raw: Record<string, string | undefined> = { ...fromFile };
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    // An empty variable means "not set", as systemd and shells commonly produce them.
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const result = envSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '(config)');
        return `${key}: ${issue.message} (got ${describeValue(key, raw[key])})`;
      }),
    );
  }
  return toConfig(result.data);
}

function toConfig(env: Env): Config {
  const blob: BlobConfig = env.BLOB_CONNECTION_STRING
    ? { kind: 'connectionString', connectionString: env.BLOB_CONNECTION_STRING, container: env.BLOB_CONTAINER, sasVersion: env.BLOB_SAS_VERSION }
    : { kind: 'managedIdentity', accountUrl: env.BLOB_ACCOUNT_URL ?? '', container: env.BLOB_CONTAINER, sasVersion: env.BLOB_SAS_VERSION };
  return {
    logLevel: env.LOG_LEVEL,
    instanceId: env.INSTANCE_ID ?? hostname(),
    azureClientId: env.AZURE_CLIENT_ID,
    http: {
      host: env.HOST,
      port: env.PORT,
      publicBaseUrl: env.PUBLIC_BASE_URL,
      tls: env.TLS_CERT_FILE && env.TLS_KEY_FILE ? { certFile: env.TLS_CERT_FILE, keyFile: env.TLS_KEY_FILE } : undefined,
      trustProxy: env.TRUST_PROXY,
      bodyLimit: env.BODY_LIMIT,
    },
    hive: {
      host: env.HIVE_HOST,
      port: env.HIVE_PORT,
      transport: env.HIVE_TRANSPORT,
      httpPath: env.HIVE_HTTP_PATH,
      auth: env.HIVE_AUTH,
      username: env.HIVE_USERNAME,
      password: env.HIVE_PASSWORD,
      kerberosService: env.HIVE_KERBEROS_SERVICE,
      tls: env.HIVE_TLS
        ? { ca: env.HIVE_TLS_CA_PEM ?? env.HIVE_TLS_CA_FILE?.pem, serverName: env.HIVE_TLS_SERVER_NAME }
        : undefined,
      kerberos:
        env.HIVE_AUTH === 'KERBEROS'
          ? {
              principal: env.HIVE_KERBEROS_PRINCIPAL!,
              keytab: env.HIVE_KERBEROS_KEYTAB ? { kind: 'bytes', bytes: env.HIVE_KERBEROS_KEYTAB } : { kind: 'file', file: env.HIVE_KERBEROS_KEYTAB_FILE! },
              serviceHost: env.HIVE_KERBEROS_SERVICE_HOST ?? env.HIVE_HOST,
              krb5Conf: env.HIVE_KRB5_CONF,
            }
          : undefined,
      httpCookieAuth: env.HIVE_HTTP_COOKIE_AUTH,
      sessionConf: env.HIVE_SESSION_CONF,
      defaultDatabase: env.HIVE_DEFAULT_DATABASE,
      impersonation: env.HIVE_IMPERSONATION,
      proxyUserTemplate: env.HIVE_PROXY_USER_TEMPLATE,
      serverVersion: env.HIVE_SERVER_VERSION === 'auto' ? undefined : env.HIVE_SERVER_VERSION,
      fetchSize: env.HIVE_FETCH_SIZE,
      pollIntervalMs: env.HIVE_POLL_INTERVAL_MS,
      callTimeoutMs: env.HIVE_CALL_TIMEOUT_MS,
      queryTimeoutMs: env.HIVE_QUERY_TIMEOUT_MINUTES * 60_000,
    },
    enos: {
      baseUrl: env.ENOS_BASE_URL,
      appKey: env.ENOS_APP_KEY,
      appSecret: env.ENOS_APP_SECRET,
      timeoutMs: env.ENOS_TIMEOUT_MS,
      maxRetries: env.ENOS_MAX_RETRIES,
    },
    auth: {
      sessionSigningKey: env.SESSION_SIGNING_KEY,
      sessionTtlMinutes: env.SESSION_TTL_MINUTES,
      loginRateLimit: {
        perIp: env.LOGIN_RATE_LIMIT_PER_IP,
        perAccount: env.LOGIN_RATE_LIMIT_PER_ACCOUNT,
        windowSeconds: env.LOGIN_RATE_WINDOW_SECONDS,
      },
      orgAccess: env.ORG_ACCESS,
    },
    // The schema's refinements guarantee the keys each method needs are present.
    storage:
      env.STORAGE_METHOD === 'blob'
        ? { method: 'blob', timeoutMs: env.STORAGE_TIMEOUT_MS, blob }
        : {
            method: 'local',
            timeoutMs: env.STORAGE_TIMEOUT_MS,
            dir: env.LOCAL_EXPORT_DIR,
            minFreeBytes: env.LOCAL_MIN_FREE_MB * 1024 * 1024,
            encryptionKey: env.FILE_ENCRYPTION_KEY!,
            urlSigningKey: env.URL_SIGNING_KEY!,
          },
    jobs: {
      store:
        env.JOB_STORE === 'sqlite'
          ? { kind: 'sqlite', file: env.SQLITE_FILE }
          : { kind: 'table', tableName: env.JOBS_TABLE_NAME, connectionString: env.TABLE_CONNECTION_STRING, accountUrl: env.TABLE_ACCOUNT_URL },
      maxConcurrent: env.JOBS_MAX_CONCURRENT,
      maxPerUser: env.JOBS_MAX_PER_USER,
      maxQueued: env.JOBS_MAX_QUEUED,
      sweepIntervalMs: env.SWEEP_INTERVAL_SECONDS * 1000,
    },
    exports: {
      defaultTtlMinutes: env.EXPORT_DEFAULT_TTL_MINUTES,
      maxTtlMinutes: env.EXPORT_MAX_TTL_MINUTES,
      maxRows: env.EXPORT_MAX_ROWS,
      maxBytes: env.EXPORT_MAX_BYTES,
      partMaxBytes: env.EXPORT_PART_MAX_BYTES,
      // One per core, as many as exports may run at once, at most 4: more would only contend.
      workers: env.EXPORT_WORKERS ?? Math.max(1, Math.min(availableParallelism(), env.JOBS_MAX_CONCURRENT, 4)),
      workerNice: env.EXPORT_WORKER_NICE,
    },
    previews: {
      timeoutMs: env.PREVIEW_TIMEOUT_MS,
      ratePerMinute: env.PREVIEW_RATE_LIMIT_PER_MINUTE,
      maxConcurrentPerUser: env.PREVIEW_MAX_CONCURRENT_PER_USER,
    },
    audit: { retentionDays: env.AUDIT_RETENTION_DAYS, tableName: env.AUDIT_TABLE_NAME, auditors: env.AUDITORS },
    accessTokens: {
      maxDays: env.ACCESS_TOKEN_MAX_DAYS,
      maxPerUser: env.ACCESS_TOKENS_MAX_PER_USER,
      ratePerMinute: env.ACCESS_TOKEN_RATE_LIMIT_PER_MINUTE,
      tableName: env.ACCESS_TOKENS_TABLE_NAME,
    },
    accountCheck: { intervalMs: env.ACCOUNT_CHECK_INTERVAL_MINUTES * 60_000, graceMs: env.ACCOUNT_CHECK_GRACE_HOURS * 3_600_000 },
    schedules: {
      minIntervalSeconds: env.SCHEDULE_MIN_INTERVAL_SECONDS,
      tickMs: env.SCHEDULE_TICK_SECONDS * 1000,
      maxPerUser: env.SCHEDULES_MAX_PER_USER,
      maxKeep: env.SCHEDULE_KEEP_MAX,
      tableName: env.SCHEDULES_TABLE_NAME,
      linkMaxDays: env.STABLE_LINK_MAX_DAYS,
      redirectMinutes: env.STABLE_LINK_REDIRECT_MINUTES,
    },
    ...(env.APPLICATIONINSIGHTS_CONNECTION_STRING
      ? { telemetry: { connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING, auth: env.TELEMETRY_AUTH, samplingRatio: env.TELEMETRY_SAMPLING_RATIO } }
      : {}),
  };
}

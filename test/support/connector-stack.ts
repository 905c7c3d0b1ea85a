/**
 * The real connector for integration tests: the HiveServer2 stand-in and the EnOS stand-in in
 * this process (so tests can inject faults), the shared Azurite from the global setup, and the
 * connector built from a plain env object by the same `loadConfig` + `buildConnector` that
 * production uses, listening on a free port. Everything a test talks to goes over real HTTP.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildConnector, type Connector, type ConnectorOverrides } from '../../app/src/composition.js';
import { loadConfig } from '../../app/src/config/config.js';
import { startEnosStandIn, type EnosStandIn } from '../../scripts/enos-stand-in/index.js';
import { startHiveStandIn, type ClusterOptions, type HiveStandIn } from '../../scripts/hive-stand-in/index.js';

export interface StackOptions {
  storage: 'blob' | 'local';
  jobStore?: 'sqlite' | 'table';
  seedRows?: number;
  /** Extra connector settings (env-style keys), e.g. `JOBS_MAX_QUEUED`. */
  env?: Record<string, string>;
  overrides?: ConnectorOverrides;
  /** Blob container (created if missing). @default a fresh unique name */
  container?: string;
  /** Reuse stand-ins across stacks in one file. */
  hive?: HiveStandIn;
  enos?: EnosStandIn;
}

export interface ConnectorStack {
  url: string;
  connector: Connector;
  hive: HiveStandIn;
  enos: EnosStandIn;
  container: string;
  dataDir: string;
  /** Env used to build the connector (for restarting it as another process). */
  env: Record<string, string>;
  signIn(username?: string, password?: string): Promise<string>;
  /** Stops the connector and starts a new one from the same configuration (same files, tables, port if fixed). */
  restart(): Promise<void>;
  api(token: string | undefined, method: string, route: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>;
  waitFor(token: string, id: string, done?: (job: any) => boolean, timeoutMs?: number): Promise<any>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The two stand-ins for every suite of one test file: started in beforeAll (in this process, so
 * tests can inject faults), closed in afterAll, handed out through getters.
 */
export function useStandIns(seedRows: number): { readonly hive: HiveStandIn; readonly enos: EnosStandIn } {
  let hive: HiveStandIn | undefined;
  let enos: EnosStandIn | undefined;
  beforeAll(async () => {
    [hive, enos] = await Promise.all([startHiveForTests(seedRows), startEnosStandIn()]);
  });
  afterAll(async () => {
    await Promise.all([hive?.close(), enos?.close()]);
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`the ${name} stand-in is used before beforeAll started it`);
    return value;
  };
  return {
    get hive() {
      return started(hive, 'HiveServer2');
    },
    get enos() {
      return started(enos, 'EnOS');
    },
  };
}

export const HIVE_USER = { name: 'connector', password: 'hive-test-password' };

/** A stand-in with the connector's account; `cluster` picks the Hive version and hive-site settings. */
export async function startHiveForTests(seedRows = 10_000, cluster: ClusterOptions = {}): Promise<HiveStandIn> {
  return startHiveStandIn({ users: { [HIVE_USER.name]: HIVE_USER.password }, seedRows, listeners: [{ transport: 'binary', auth: 'PLAIN' }], ...cluster });
}

export async function startConnectorStack(options: StackOptions): Promise<ConnectorStack> {
  const azurite = inject('azurite');
  const hive = options.hive ?? (await startHiveForTests(options.seedRows));
  const enos = options.enos ?? (await startEnosStandIn());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'connector-'));
  const container = options.container ?? `exports-${randomUUID().slice(0, 8)}`;
  await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container).createIfNotExists();
  const listener = hive.listeners[0]!;
  const app = enos.apps[0]!;
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    INSTANCE_ID: `test-${randomUUID().slice(0, 8)}`,
    HIVE_HOST: listener.host,
    HIVE_PORT: String(listener.port),
    HIVE_AUTH: 'PLAIN',
    HIVE_USERNAME: HIVE_USER.name,
    HIVE_PASSWORD: HIVE_USER.password,
    HIVE_POLL_INTERVAL_MS: '50',
    HIVE_FETCH_SIZE: '5000',
    ENOS_BASE_URL: enos.url,
    ENOS_APP_KEY: app.appKey,
    ENOS_APP_SECRET: app.appSecret,
    SESSION_SIGNING_KEY: randomBytes(32).toString('base64'),
    ORG_ACCESS: JSON.stringify({ 'demo-org': { databases: ['enos'] }, 'other-org': { databases: ['enos_other'] } }),
    STORAGE_METHOD: options.storage,
    BLOB_CONNECTION_STRING: azurite.connectionString,
    BLOB_CONTAINER: container,
    LOCAL_EXPORT_DIR: path.join(dataDir, 'exports'),
    LOCAL_MIN_FREE_MB: '1',
    FILE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    URL_SIGNING_KEY: randomBytes(32).toString('base64'),
    JOB_STORE: options.jobStore ?? 'sqlite',
    SQLITE_FILE: path.join(dataDir, 'jobs.sqlite'),
    TABLE_CONNECTION_STRING: azurite.connectionString,
    JOBS_TABLE_NAME: `jobs${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    // Each stack its own tables: schedules in a shared table would be claimed by other tests' instances.
    AUDIT_TABLE_NAME: `audit${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    ACCESS_TOKENS_TABLE_NAME: `tokens${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    SCHEDULES_TABLE_NAME: `schedules${randomUUID().replaceAll('-', '').slice(0, 12)}`,
    ...options.env,
  };
  let connector = buildConnector(loadConfig(env), options.overrides);
  let url = (await connector.start()).url;

  const api: ConnectorStack['api'] = async (token, method, route, body, headers = {}) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
  };

  const stack: ConnectorStack = {
    get url() {
      return url;
    },
    get connector() {
      return connector;
    },
    hive,
    enos,
    container,
    dataDir,
    env,
    api,
    async signIn(username = 'demo', password = `${username}-password`) {
      const response = await api(undefined, 'POST', '/api/v1/sessions', { username, password });
      if (response.status !== 201) throw new Error(`sign-in as ${username} failed: ${response.status} ${JSON.stringify(response.json)}`);
      return response.json.token as string;
    },
    async waitFor(token, id, done = (job) => !['queued', 'running'].includes(job.status), timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { json } = await api(token, 'GET', `/api/v1/exports/${id}`);
        if (done(json)) return json;
        if (Date.now() > deadline) throw new Error(`export ${id} still ${json.status} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async restart() {
      await connector.stop();
      // Let fetch's pooled keep-alive sockets see the old server close them, or the next request
      // on the same port is written into a dead socket ("other side closed").
      await new Promise((resolve) => setTimeout(resolve, 200));
      connector = buildConnector(loadConfig(env), options.overrides);
      url = (await connector.start()).url;
    },
    async stop() {
      await connector.stop();
      if (!options.hive) await hive.close();
      if (!options.enos) await enos.close();
    },
  };
  return stack;
}

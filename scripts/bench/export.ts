/**
 * Export throughput and memory, measured in one run so the ratios compare like with like:
 *
 * 1. decode: the same fetched row sets turned into CSV two ways — hive-driver's JsonResult (an
 *    object per row) + csv-stringify, against the connector's columnar encoder.
 * 2. end to end: the real connector (its own process) exporting 200,000 and 2,000,000 rows
 *    through the API to Azurite (blob) and to disk (local), from submit to succeeded, against
 *    the raw fetch rate of the same rows with hive-driver (no decoding). Peak RSS of a fresh
 *    connector process per export (VmHWM from /proc).
 *
 * `npm run bench -- export` (takes a few minutes; seeds 2M rows into .local/bench/ once).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import hive from 'hive-driver';
import type { ThriftTableSchema } from '../../app/src/hive/row-set.js';
import { startAzurite } from '../lib/azurite.js';
import { parseReadyLine, startChildService, tsxArgs, type ChildService } from '../lib/child-service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BENCH_DIR = path.join(ROOT, '.local/bench');
const SIZES = [200_000, 2_000_000];
const SQL = (rows: number) => `SELECT * FROM enos.measurement LIMIT ${rows}`;
const HIVE_USER = { username: 'bench', password: 'bench-password' };
const FETCH_SIZE = 10_000;

const { TCLIService, TCLIService_types } = hive.thrift;
const FETCH_NEXT = TCLIService_types.TFetchOrientation.FETCH_NEXT as number;

interface HiveReady {
  listeners: { host: string; port: number }[];
}

/** The fields of the API's answers this benchmark reads. */
interface ApiAnswer {
  token: string;
  id: string;
  status: string;
  error: unknown;
  progress: { rows: number; bytes: number };
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const rate = (rows: number, s: number) => Math.round(rows / s);
const fmt = (n: number) => n.toLocaleString('en');

/** Fetches `sql` with hive-driver, handing each row set to `onRowSet`; returns rows and seconds. */
/** hive-driver's row set as this benchmark counts it. */
type DriverRowSet = { columns?: Record<string, { values: unknown[] } | null>[] | null };

async function fetchAll(listener: HiveReady['listeners'][number], sql: string, onRowSet: (rowSet: DriverRowSet, schema: ThriftTableSchema) => void) {
  const client = new hive.HiveClient(TCLIService, TCLIService_types);
  await client.connect({ host: listener.host, port: listener.port }, new hive.connections.TcpConnection(), new hive.auth.PlainTcpAuthentication(HIVE_USER));
  const session = await client.openSession({ client_protocol: TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 });
  const start = process.hrtime.bigint();
  const operation = await session.executeStatement(sql, { runAsync: true });
  for (;;) {
    const status = await operation.status(false);
    if (status.operationState === TCLIService_types.TOperationState.FINISHED_STATE) break;
    if (status.operationState === TCLIService_types.TOperationState.ERROR_STATE) throw new Error(status.errorMessage);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  operation.setMaxRows(FETCH_SIZE);
  let rows = 0;
  do {
    await operation.fetch(FETCH_NEXT);
    const schema = operation.getSchema() as ThriftTableSchema;
    for (const rowSet of operation.getData() as DriverRowSet[]) {
      rows += rowSet.columns?.[0] ? Object.values(rowSet.columns[0]).find((v) => v?.values)?.values.length ?? 0 : 0;
      onRowSet(rowSet, schema);
    }
    operation.flush();
  } while (operation.hasMoreRows());
  const elapsed = seconds(start);
  await operation.close();
  await session.close();
  client.close();
  return { rows, seconds: elapsed };
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function endToEnd(listener: HiveReady['listeners'][number], enosUrl: string, app: { appKey: string; appSecret: string }, connectionString: string): Promise<void> {
  const container = 'bench-exports';
  await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).createIfNotExists();
  console.log('\nend to end (submit → succeeded), connector in its own process:');
  for (const rows of SIZES) {
    const raw = await fetchAll(listener, SQL(rows), () => undefined);
    console.log(`  raw hive-driver fetch of ${fmt(rows)} rows: ${fmt(rate(raw.rows, raw.seconds))} rows/s`);
    for (const storage of ['blob', 'local'] as const) {
      const connector: ChildService<{ url: string }> = await startChildService({
        name: 'connector',
        command: process.execPath,
        args: tsxArgs(path.join(ROOT, 'app/src/main.ts')),
        env: {
          PATH: process.env.PATH,
          PORT: '0',
          LOG_LEVEL: 'warn',
          HIVE_HOST: listener.host,
          HIVE_PORT: String(listener.port),
          HIVE_USERNAME: HIVE_USER.username,
          HIVE_PASSWORD: HIVE_USER.password,
          HIVE_FETCH_SIZE: String(FETCH_SIZE),
          HIVE_POLL_INTERVAL_MS: '50',
          ENOS_BASE_URL: enosUrl,
          ENOS_APP_KEY: app.appKey,
          ENOS_APP_SECRET: app.appSecret,
          SESSION_SIGNING_KEY: randomBytes(32).toString('base64'),
          ORG_ACCESS: JSON.stringify({ 'demo-org': { databases: ['enos'] } }),
          STORAGE_METHOD: storage,
          BLOB_CONNECTION_STRING: connectionString,
          BLOB_CONTAINER: container,
          LOCAL_EXPORT_DIR: path.join(BENCH_DIR, 'exports'),
          LOCAL_MIN_FREE_MB: '100',
          FILE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          URL_SIGNING_KEY: randomBytes(32).toString('base64'),
          SQLITE_FILE: path.join(BENCH_DIR, `jobs-${Date.now()}.sqlite`),
        },
        readyWhen: (line) => parseReadyLine<{ url: string }>(line),
      });
      try {
        const call = async (method: string, route: string, token?: string, body?: unknown) => {
          const response = await fetch(`${connector.ready.url}${route}`, {
            method,
            headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
          return (await response.json()) as ApiAnswer;
        };
        const { token } = await call('POST', '/api/v1/sessions', undefined, { username: 'demo', password: 'demo-password' });
        const baseline = peakRssMb(connector.child.pid!);
        const start = process.hrtime.bigint();
        const { id } = await call('POST', '/api/v1/exports', token, { sql: SQL(rows) });
        let job: ApiAnswer;
        for (;;) {
          job = await call('GET', `/api/v1/exports/${id}`, token);
          if (!['queued', 'running'].includes(job.status)) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const elapsed = seconds(start);
        if (job.status !== 'succeeded') throw new Error(`export ${storage} ${rows} ended ${job.status}: ${JSON.stringify(job.error)}`);
        const peak = peakRssMb(connector.child.pid!);
        console.log(
          `    ${storage.padEnd(5)}: ${fmt(rate(rows, elapsed))} rows/s (${(job.progress.bytes / 1e6).toFixed(0)} MB), ` +
            `e2e/raw-fetch ${(raw.seconds / elapsed).toFixed(2)}, connector peak RSS ${peak.toFixed(0)} MB (idle ${baseline.toFixed(0)} MB)`,
        );
      } finally {
        await connector.stop();
      }
    }
  }
}

export default async function run(): Promise<void> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const seedRows = Math.max(...SIZES);
  console.log(`starting the stand-ins (${fmt(seedRows)} rows; the first run seeds ${path.relative(ROOT, BENCH_DIR)}/)...`);
  const [azurite, hiveStandIn, enos] = await Promise.all([
    startAzurite({ extentMemoryLimitMb: 8192 }),
    startChildService<HiveReady>({
      name: 'hive',
      command: process.execPath,
      args: tsxArgs(path.join(ROOT, 'scripts/hive-stand-in/main.ts'), '--port', '0', '--user', `${HIVE_USER.username}:${HIVE_USER.password}`, '--seed-rows', String(seedRows), '--db-file', path.join(BENCH_DIR, `hive-${seedRows}.duckdb`)),
      readyWhen: (line) => parseReadyLine<HiveReady>(line),
      timeoutMs: 600_000,
    }),
    startChildService<{ url: string }>({
      name: 'enos',
      command: process.execPath,
      args: tsxArgs(path.join(ROOT, 'scripts/enos-stand-in/main.ts'), '--port', '0'),
      readyWhen: (line) => parseReadyLine<{ url: string }>(line),
    }),
  ]);
  try {
    const listener = hiveStandIn.ready.listeners[0]!;
    const seed = JSON.parse(readFileSync(path.join(ROOT, 'scripts/enos-stand-in/seed.json'), 'utf8')) as { apps: { appKey: string; appSecret: string }[] };
    await endToEnd(listener, enos.ready.url, seed.apps[0]!, azurite.connectionString);
  } finally {
    await Promise.all([azurite.stop(), hiveStandIn.stop(), enos.stop()]);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();

/**
 * Export speed, CPU, memory and API latency of the production bundle, measured in one run so
 * every ratio compares like with like on a shared machine:
 *
 *  - stock: hive-driver as a user would install it (its thrift, its decoder) fetching the same
 *    rows, the median of three runs; and the stand-in's own serving rate (a client that never
 *    decodes), so the output says which side was the bottleneck;
 *  - the connector: `npm run build`'s esbuild bundle (server.js) run by this machine's Node, one
 *    fresh process per storage method × format: idle RSS, one export (rows/s, CPU seconds, peak
 *    RSS), the 8-mixed-column export, then four exports at once while GET /api/v1/exports/{id}
 *    and /healthz are timed.
 *
 * Output: `key=value` lines, `storage=` and `format=` on each (see README "Benchmarks").
 *   npm run bench -- export           every storage × format, 2M rows, and peak RSS at 10M rows per format
 *   npm run bench -- export --quick   Blob CSV only, 2M rows (under five minutes)
 *   … --only=local:csv,big:parquet    just those runs (big: 10M rows to Blob)
 *   … --profile                       also a V8 CPU profile of each connector process (.local/bench/profiles/)
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import hive from 'hive-driver';
import type { ListenerInfo } from '../hive-stand-in/index.js';
import { bundleServer } from '../build-connector.js';
import { startAzurite } from '../lib/azurite.js';
import { nodeArgs, parseReadyLine, startChildService, tsxArgs, type ChildService } from '../lib/child-service.js';
import { serveRate } from './lib/raw-hive.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BENCH_DIR = path.join(ROOT, '.local/bench');
const QUICK = process.argv.includes('--quick');
/** `--profile`: the connector writes a V8 CPU profile per process into .local/bench/profiles/. */
const PROFILE = process.argv.includes('--profile');
/** `--only=local:csv,blob:parquet,big:csv`: just these storage × format runs, and 10M-row runs of the `big:` formats. */
const ONLY_ARGUMENT = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .map((pair) => pair.split(':'));
const ONLY = ONLY_ARGUMENT?.filter(([storage]) => storage !== 'big');
const ONLY_BIG = ONLY_ARGUMENT?.filter(([storage]) => storage === 'big').map(([, format]) => format as (typeof FORMATS)[number]);
const ROWS = 2_000_000;
const BIG_ROWS = 10_000_000;
const FETCH_SIZE = 10_000;
const HIVE_USER = { user: 'bench', password: 'bench-password' };
const MEASUREMENTS = (rows: number) => `SELECT asset_id, ts, point, value, quality FROM enos.measurement LIMIT ${rows}`;
/** string, timestamp, string, double, int, decimal, date, boolean. */
const MIXED = (rows: number) =>
  `SELECT asset_id, ts, point, value, quality, CAST(value AS DECIMAL(12, 3)) AS value_dec, CAST(ts AS DATE) AS day, quality = 0 AS good FROM enos.measurement LIMIT ${rows}`;
const CLOCK_TICKS = 100;
const FORMATS = ['csv', 'csv.gz', 'parquet'] as const;

const { TCLIService, TCLIService_types } = hive.thrift;

interface Job {
  id: string;
  status: string;
  error: unknown;
  progress: { rows: number; bytes: number };
}

const now = () => performance.now();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}

/** User + system CPU seconds so far of a process (its threads included) or, with `tid`, of one thread. */
function cpuSeconds(pid: number, tid?: number): number {
  const fields = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** hive-driver out of the box: TcpConnection (thrift's TFramedTransport), the generated decoder. */
async function stockFetch(listener: ListenerInfo, sql: string): Promise<number> {
  const client = new hive.HiveClient(TCLIService, TCLIService_types);
  client.on('error', () => undefined);
  await client.connect({ host: listener.host, port: listener.port }, new hive.connections.TcpConnection(), new hive.auth.PlainTcpAuthentication({ username: HIVE_USER.user, password: HIVE_USER.password }));
  try {
    const session = await client.openSession({ client_protocol: TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 });
    const started = now();
    const operation = await session.executeStatement(sql, { runAsync: true });
    await new hive.HiveUtils(TCLIService_types).waitUntilReady(operation, false, () => undefined);
    operation.setMaxRows(FETCH_SIZE);
    let rows = 0;
    do {
      await operation.fetch();
      for (const rowSet of operation.getData()) rows += rowSet.columns?.[0]?.stringVal?.values.length ?? 0;
      operation.flush();
    } while (operation.hasMoreRows());
    const seconds = (now() - started) / 1000;
    await operation.close();
    await session.close();
    return rows / seconds;
  } finally {
    client.close();
  }
}

interface Services {
  listener: ListenerInfo;
  enosUrl: string;
  app: { appKey: string; appSecret: string };
  azurite: string;
}

class Connector {
  private constructor(
    private readonly child: ChildService<{ url: string }>,
    private readonly token: string,
    /** The connector's job database and local exports; removed when it stops. */
    private readonly scratch: string,
  ) {}

  static async start(services: Services, storage: 'blob' | 'local', server: string): Promise<Connector> {
    const container = 'bench-exports';
    const scratch = await mkdtemp(path.join(BENCH_DIR, 'connector-run-'));
    await BlobServiceClient.fromConnectionString(services.azurite).getContainerClient(container).createIfNotExists();
    const child = await startChildService<{ url: string }>({
      name: 'connector',
      command: process.execPath,
      args: PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(BENCH_DIR, 'profiles'), ...nodeArgs(server)] : nodeArgs(server),
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        LOG_LEVEL: 'warn',
        HIVE_HOST: services.listener.host,
        HIVE_PORT: String(services.listener.port),
        HIVE_USERNAME: HIVE_USER.user,
        HIVE_PASSWORD: HIVE_USER.password,
        HIVE_SERVER_VERSION: '3.1',
        HIVE_FETCH_SIZE: String(FETCH_SIZE),
        HIVE_POLL_INTERVAL_MS: '50',
        ENOS_BASE_URL: services.enosUrl,
        ENOS_APP_KEY: services.app.appKey,
        ENOS_APP_SECRET: services.app.appSecret,
        SESSION_SIGNING_KEY: randomBytes(32).toString('base64'),
        ORG_ACCESS: JSON.stringify({ 'demo-org': { databases: ['enos'] } }),
        STORAGE_METHOD: storage,
        BLOB_CONNECTION_STRING: services.azurite,
        BLOB_CONTAINER: container,
        LOCAL_EXPORT_DIR: path.join(scratch, 'exports'),
        LOCAL_MIN_FREE_MB: '100',
        FILE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        URL_SIGNING_KEY: randomBytes(32).toString('base64'),
        SQLITE_FILE: path.join(scratch, 'jobs.sqlite'),
        JOBS_MAX_CONCURRENT: '4',
        JOBS_MAX_PER_USER: '4',
        // As the VM's systemd unit runs it (infra/vm/enos-connector-bootstrap.sh): the production bundle's malloc setting.
        MALLOC_MMAP_THRESHOLD_: '131072',
        // For an A/B of the encode workers' priority (scripts/README "Benchmarks"); the connector's default otherwise.
        ...(process.env.EXPORT_WORKER_NICE === undefined ? {} : { EXPORT_WORKER_NICE: process.env.EXPORT_WORKER_NICE }),
      },
      forwardTo: process.stderr,
      readyWhen: (line) => parseReadyLine<{ url: string }>(line),
    });
    const signIn = await fetch(`${child.ready.url}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'demo-password' }),
    });
    return new Connector(child, ((await signIn.json()) as { token: string }).token, scratch);
  }

  get pid(): number {
    return this.child.child.pid!;
  }

  async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.child.ready.url}${route}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await response.json()) as T;
  }

  /** Deletes a measured export through the API, so a full run does not pile up gigabytes of them. */
  async discard(id: string): Promise<void> {
    const response = await fetch(`${this.child.ready.url}/api/v1/exports/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${this.token}` } });
    if (response.status !== 204) throw new Error(`deleting export ${id} answered ${response.status}: ${await response.text()}`);
  }

  async timed(route: string): Promise<number> {
    const started = now();
    const response = await fetch(`${this.child.ready.url}${route}`, { headers: { authorization: `Bearer ${this.token}` } });
    await response.arrayBuffer();
    return now() - started;
  }

  async submit(sql: string, format: string): Promise<string> {
    return (await this.call<Job>('POST', '/api/v1/exports', { sql, format })).id;
  }

  async finish(id: string): Promise<Job> {
    for (;;) {
      const job = await this.call<Job>('GET', `/api/v1/exports/${id}`);
      if (!['queued', 'running'].includes(job.status)) {
        if (job.status !== 'succeeded') throw new Error(`export ${id} ended ${job.status}: ${JSON.stringify(job.error)}`);
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * One export: seconds from submit to succeeded, and CPU seconds meanwhile: the connector's, its
   * main thread's (the one that serves the API) alone, and those of the processes it talks to
   * (`others`: the stand-in, Azurite), which share this machine's cores with it.
   */
  async exportOnce(sql: string, format: string, others: Record<string, number> = {}): Promise<{ seconds: number; cpu: number; mainCpu: number; othersCpu: Record<string, number>; job: Job }> {
    const cpuBefore = cpuSeconds(this.pid);
    const mainBefore = cpuSeconds(this.pid, this.pid);
    const othersBefore = Object.fromEntries(Object.entries(others).map(([name, pid]) => [name, cpuSeconds(pid)]));
    const started = now();
    const job = await this.finish(await this.submit(sql, format));
    const measured = {
      seconds: (now() - started) / 1000,
      cpu: cpuSeconds(this.pid) - cpuBefore,
      mainCpu: cpuSeconds(this.pid, this.pid) - mainBefore,
      othersCpu: Object.fromEntries(Object.entries(others).map(([name, pid]) => [name, cpuSeconds(pid) - othersBefore[name]!])),
      job,
    };
    await this.discard(job.id);
    return measured;
  }

  async stop(): Promise<void> {
    await this.child.stop();
    await rm(this.scratch, { recursive: true, force: true });
  }
}

/** Four exports at once, GET /api/v1/exports/{id} and /healthz timed meanwhile. */
async function fourAtOnce(connector: Connector, sql: string, format: string): Promise<{ seconds: number; p95: number }> {
  const started = now();
  const ids = await Promise.all(Array.from({ length: 4 }, () => connector.submit(sql, format)));
  const latencies: number[] = [];
  let done = false;
  const sampler = (async () => {
    for (let i = 0; !done; i++) {
      latencies.push(await connector.timed(i % 2 === 0 ? `/api/v1/exports/${ids[i % 4]}` : '/healthz'));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  await Promise.all(ids.map((id) => connector.finish(id)));
  done = true;
  await sampler;
  const seconds = (now() - started) / 1000;
  await Promise.all(ids.map((id) => connector.discard(id)));
  return { seconds, p95: percentile(latencies, 95) };
}

function print(labels: { storage: string; format: string }, values: Record<string, number | string>): void {
  for (const [key, value] of Object.entries(values)) {
    process.stdout.write(`storage=${labels.storage} format=${labels.format} ${key}=${typeof value === 'number' ? (Number.isInteger(value) ? value : value.toFixed(2)) : value}\n`);
  }
}

export default async function run(): Promise<void> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const server = path.join(BENCH_DIR, 'connector', 'server.js');
  await bundleServer(server);
  const seedRows = QUICK ? ROWS : BIG_ROWS;
  process.stdout.write(`# export benchmark (${QUICK ? 'quick: Blob CSV' : 'every storage × format'}), ${ROWS.toLocaleString('en')} rows; seed ${seedRows.toLocaleString('en')} rows in ${path.relative(ROOT, BENCH_DIR)}/\n`);
  const [azurite, hiveStandIn, enos] = await Promise.all([
    // In memory: Azurite stands for a remote service, so its disk writes and read-backs (a third
    // of its CPU when it persisted to .local/bench) are the harness's cost, not the connector's.
    // Each measured export is deleted through the API; Azurite frees the bytes at its next GC
    // (every 10 minutes), and a full run writes about 3 GB in all.
    startAzurite({ extentMemoryLimitMb: 6144 }),
    startChildService<{ listeners: ListenerInfo[] }>({
      name: 'hive',
      command: process.execPath,
      args: tsxArgs(path.join(ROOT, 'scripts/hive-stand-in/main.ts'), '--port', '0', '--user', `${HIVE_USER.user}:${HIVE_USER.password}`, '--seed-rows', String(seedRows), '--db-file', path.join(BENCH_DIR, `hive-${seedRows}.duckdb`)),
      readyWhen: (line) => parseReadyLine<{ listeners: ListenerInfo[] }>(line),
      timeoutMs: 900_000,
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
    const services: Services = { listener, enosUrl: enos.ready.url, app: seed.apps[0]!, azurite: azurite.connectionString };

    await stockFetch(listener, MEASUREMENTS(ROWS / 10)); // warm-up: JIT and DuckDB caches on both sides
    const stock = median([await stockFetch(listener, MEASUREMENTS(ROWS)), await stockFetch(listener, MEASUREMENTS(ROWS)), await stockFetch(listener, MEASUREMENTS(ROWS))]);
    const stockMixed = median([await stockFetch(listener, MIXED(ROWS)), await stockFetch(listener, MIXED(ROWS)), await stockFetch(listener, MIXED(ROWS))]);
    const serving = (await serveRate(listener, HIVE_USER, MEASUREMENTS(ROWS), FETCH_SIZE, ROWS)).rowsPerSecond;
    const servingMixed = (await serveRate(listener, HIVE_USER, MIXED(ROWS), FETCH_SIZE, ROWS)).rowsPerSecond;
    process.stdout.write(`# stand-in serves ${Math.round(serving).toLocaleString('en')} rows/s (5 columns), ${Math.round(servingMixed).toLocaleString('en')} rows/s (8 mixed) to a client that does not decode\n`);

    const combinations = ONLY ?? (QUICK ? [['blob', 'csv']] : (['blob', 'local'] as const).flatMap((storage) => FORMATS.map((format) => [storage, format])));
    /** export rows/s by storage and format, for the ratios between them. */
    const rates = new Map<string, number>();
    for (const [storage, format] of combinations as ['blob' | 'local', string][]) {
      const connector = await Connector.start(services, storage, server);
      try {
        // Idle: started, settled, nothing exported yet.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        const idle = procStatus(connector.pid, 'VmRSS');
        await connector.exportOnce(MEASUREMENTS(ROWS / 10), format); // warm-up
        const once = await connector.exportOnce(MEASUREMENTS(ROWS), format, { standin: hiveStandIn.child.pid!, azurite: azurite.pid });
        const peak = procStatus(connector.pid, 'VmHWM');
        const exportRate = ROWS / once.seconds;
        const coresBusy = (once.cpu + once.othersCpu.standin! + once.othersCpu.azurite!) / once.seconds;
        const mixed = await connector.exportOnce(MIXED(ROWS), format);
        const mixedRate = ROWS / mixed.seconds;
        const four = await fourAtOnce(connector, MEASUREMENTS(ROWS), format);
        const labels = { storage, format };
        rates.set(`${storage} ${format}`, exportRate);
        const csvRate = rates.get(`${storage} csv`);
        const blobRate = rates.get(`blob ${format}`);
        print(labels, {
          stock_fetch_rows_per_s: Math.round(stock),
          export_rows_per_s: Math.round(exportRate),
          export_vs_stock_fetch_ratio: exportRate / stock,
          mixed8_export_vs_stock_fetch_ratio: mixedRate / stockMixed,
          connector_cpu_s_per_million_rows: once.cpu / (ROWS / 1e6),
          main_thread_cpu_s_per_million_rows: once.mainCpu / (ROWS / 1e6),
          // The harness's own cost per million rows, on the same two cores: why four exports at once cannot scale past them.
          standin_cpu_s_per_million_rows: once.othersCpu.standin! / (ROWS / 1e6),
          azurite_cpu_s_per_million_rows: once.othersCpu.azurite! / (ROWS / 1e6),
          bytes_per_row: once.job.progress.bytes / ROWS,
          idle_rss_mb: Math.round(idle),
          peak_rss_mb: Math.round(peak),
          api_p95_ms_during_4_exports: four.p95,
          concurrent4_vs_one_throughput_ratio: (4 * ROWS) / four.seconds / exportRate,
          // Cores kept busy by the connector, the stand-in and Azurite together: near all of this
          // machine's, the export waits for a core, whatever the connector's own cost per row.
          cores_busy_during_export: coresBusy,
          saturated: coresBusy > 0.85 * availableParallelism() ? 'cores' : exportRate > 0.8 * serving ? 'stand-in' : 'connector',
          ...(format !== 'csv' && csvRate ? { export_vs_csv_ratio: exportRate / csvRate } : {}),
          ...(storage === 'local' && blobRate ? { local_vs_blob_ratio: exportRate / blobRate } : {}),
        });
      } finally {
        await connector.stop();
      }
    }
    // Peak memory of one big export per format, each in a fresh process (VmHWM is a high-water mark).
    for (const format of ONLY_BIG ?? (QUICK ? [] : FORMATS)) {
      const connector = await Connector.start(services, 'blob', server);
      try {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        const idle = procStatus(connector.pid, 'VmRSS');
        const big = await connector.exportOnce(MEASUREMENTS(BIG_ROWS), format);
        const peak = procStatus(connector.pid, 'VmHWM');
        print({ storage: 'blob', format }, {
          rows_10m: BIG_ROWS,
          export_rows_per_s_10m: Math.round(BIG_ROWS / big.seconds),
          idle_rss_mb_10m: Math.round(idle),
          peak_rss_mb_10m: Math.round(peak),
          peak_above_idle_mb_10m: Math.round(peak - idle),
          bytes_per_row_10m: big.job.progress.bytes / BIG_ROWS,
        });
      } finally {
        await connector.stop();
      }
    }
  } finally {
    await Promise.all([azurite.stop(), hiveStandIn.stop(), enos.stop()]);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();

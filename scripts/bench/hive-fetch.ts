/**
 * Is the HiveServer2 stand-in fast enough not to be what the export benchmarks measure? In one
 * run, against one stand-in child process (its own core) seeded with 2,000,000 measurement rows:
 *  (a) the stand-in's FetchResults serving rate: a raw client over binary SASL PLAIN that sends a
 *      pre-built FetchResults request and only counts the reply frames' bytes, never decoding;
 *  (b) hive-driver's decode rate: its fetch loop over the same query (8 mixed columns) and the
 *      same batch size;
 * and the ratio a/b. `npm run bench hive-fetch` or `npx tsx scripts/bench/hive-fetch.ts`.
 */
import { fileURLToPath } from 'node:url';
import hive from 'hive-driver';
import { parseReadyLine, startChildService, tsxArgs } from '../lib/child-service.js';
import { serveRate } from './lib/raw-hive.js';
import type { ListenerInfo } from '../hive-stand-in/index.js';

const SEED_ROWS = 2_000_000;
const BATCH_ROWS = 10_000;
const USER = 'bench';
const PASSWORD = 'bench-password';
/** string, timestamp, string, double, int, decimal, date, boolean. */
const QUERY =
  'SELECT asset_id, ts, point, value, quality, CAST(value AS DECIMAL(12, 3)) AS value_dec, CAST(ts AS DATE) AS day, quality = 0 AS good FROM enos.measurement';

interface Ready {
  listeners: ListenerInfo[];
  adminUrl: string;
}

/** (b) hive-driver's fetch loop: decode every batch into row set objects, count the rows. */
async function decodeRate(listener: ListenerInfo): Promise<{ rowsPerSecond: number; rows: number; seconds: number }> {
  const { TCLIService, TCLIService_types } = hive.thrift;
  const client = new hive.HiveClient(TCLIService, TCLIService_types);
  client.on('error', () => undefined);
  await client.connect({ host: listener.host, port: listener.port }, new hive.connections.TcpConnection(), new hive.auth.PlainTcpAuthentication({ username: USER, password: PASSWORD }));
  try {
    const session = await client.openSession({ client_protocol: TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 });
    const operation = await session.executeStatement(QUERY);
    await new hive.HiveUtils(TCLIService_types).waitUntilReady(operation, false, () => undefined);
    operation.setMaxRows(BATCH_ROWS);
    let rows = 0;
    const started = performance.now();
    do {
      await operation.fetch();
      for (const rowSet of operation.getData()) rows += (rowSet.columns?.[0]?.stringVal?.values.length ?? 0);
      operation.flush();
    } while (operation.hasMoreRows());
    const seconds = (performance.now() - started) / 1000;
    await operation.close();
    await session.close();
    return { rowsPerSecond: rows / seconds, rows, seconds };
  } finally {
    client.close();
  }
}

export default async function run(): Promise<void> {
  const standIn = await startChildService<Ready>({
    name: 'hive-stand-in',
    command: process.execPath,
    args: tsxArgs(fileURLToPath(new URL('../hive-stand-in/main.ts', import.meta.url)), '--port', '0', '--user', `${USER}:${PASSWORD}`, '--seed-rows', String(SEED_ROWS), '--admin-port', '0'),
    readyWhen: (line) => parseReadyLine<Ready>(line),
    timeoutMs: 300_000,
  });
  try {
    const listener = standIn.ready.listeners[0]!;
    const counted = (await (await fetch(`${standIn.ready.adminUrl}/query`, { method: 'POST', body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM enos.measurement' }) })).json()) as { rows: { n: number | string }[] };
    const rows = Number(counted.rows[0]!.n);
    const credentials = { user: USER, password: PASSWORD };
    await serveRate(listener, credentials, QUERY, BATCH_ROWS, rows); // warm-up: JIT on both sides
    const served = await serveRate(listener, credentials, QUERY, BATCH_ROWS, rows);
    const decoded = await decodeRate(listener);
    const line = (label: string, text: string) => process.stdout.write(`${label.padEnd(58)} ${text}\n`);
    line(`query: 8 mixed columns, ${rows.toLocaleString('en')} rows, batches of ${BATCH_ROWS.toLocaleString('en')}`, '');
    line('(a) stand-in FetchResults serving rate (raw client)', `${served.rowsPerSecond.toFixed(0).padStart(9)} rows/s  ${(served.bytes / served.seconds / 1e6).toFixed(1)} MB/s`);
    line('(b) hive-driver fetch loop decode rate (binary PLAIN)', `${decoded.rowsPerSecond.toFixed(0).padStart(9)} rows/s`);
    line('a/b: how many times faster the stand-in serves than hive-driver decodes', `${(served.rowsPerSecond / decoded.rowsPerSecond).toFixed(1)}×`);
  } finally {
    await standIn.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run();
}

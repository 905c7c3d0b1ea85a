/**
 * The connector's query runner against the HiveServer2 stand-in over every transport it
 * supports by configuration — binary SASL PLAIN, binary NOSASL, HTTP with Basic auth — and the
 * failure modes hive-driver reports only as events (a refused password, an HTTP 401), which
 * must become clear errors instead of hangs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HiveConfig } from '../../../app/src/config/config.js';
import { AppError } from '../../../app/src/errors.js';
import { checkHiveReady } from '../../../app/src/hive/hive-connection.js';
import { createQueryRunner } from '../../../app/src/hive/query-runner.js';
import { createLogger } from '../../../app/src/logger.js';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo } from '../../../scripts/hive-stand-in/index.js';

let hive: HiveStandIn;
const logger = createLogger('silent');

beforeAll(async () => {
  hive = await startHiveStandIn({
    users: { connector: 'runner-password' },
    seedRows: 25_000,
    listeners: [
      { transport: 'binary', auth: 'PLAIN' },
      { transport: 'binary', auth: 'NOSASL' },
      { transport: 'http', auth: 'PLAIN' },
    ],
  });
});
afterAll(async () => hive?.close());

function configFor(listener: ListenerInfo, overrides: Partial<HiveConfig> = {}): HiveConfig {
  return {
    host: listener.host,
    port: listener.port,
    transport: listener.transport,
    httpPath: listener.path ?? '/cliservice',
    auth: listener.auth,
    username: 'connector',
    password: 'runner-password',
    kerberosService: 'hive',
    impersonation: 'none',
    sessionConf: { 'tez.queue.name': 'aml' },
    fetchSize: 2_000,
    pollIntervalMs: 20,
    callTimeoutMs: 10_000,
    queryTimeoutMs: 60_000,
    ...overrides,
  };
}

const listenerOf = (transport: string, auth: string) => hive.listeners.find((l) => l.transport === transport && l.auth === auth)!;

describe.each([
  ['binary', 'PLAIN'],
  ['binary', 'NOSASL'],
  ['http', 'PLAIN'],
])('query runner over %s %s', (transport, auth) => {
  it('streams every row of a query in row sets and reports readiness', async () => {
    const config = configFor(listenerOf(transport, auth));
    await checkHiveReady(config);
    const runner = createQueryRunner(config, logger);
    const stages: string[] = [];
    const query = await runner.start('SELECT asset_id, ts, value FROM enos.measurement', {
      signal: new AbortController().signal,
      onHiveStatus: (status) => stages.push(status.stage),
    });
    let rows = 0;
    let batches = 0;
    for await (const batch of query.rowSets()) {
      rows += batch.rowCount;
      batches++;
    }
    await query.close();
    expect(rows).toBe(25_000);
    expect(batches).toBeGreaterThanOrEqual(13); // fetchSize 2,000
    expect(query.columns.map((c) => [c.name, c.type])).toEqual([['asset_id', 'string'], ['ts', 'timestamp'], ['value', 'double']]);
    // A fetch task: FINISHED at the first look; its scan (the first FetchResults) is Hive's work.
    expect(stages).toEqual(['running']);
  });
});

describe('query runner failures', () => {
  const expectAppError = async (promise: Promise<unknown>, code: string, message?: RegExp) => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(code);
    if (message) expect((error as AppError).message).toMatch(message);
  };

  it('turns a refused password into a clear error on binary and HTTP transports, without hanging', async () => {
    for (const listener of [listenerOf('binary', 'PLAIN'), listenerOf('http', 'PLAIN')]) {
      const runner = createQueryRunner(configFor(listener, { password: 'wrong', callTimeoutMs: 5_000 }), logger);
      await expectAppError(runner.start('SELECT 1', { signal: new AbortController().signal }), 'hive_unavailable');
    }
  });

  it("reports Hive's own message for bad SQL", async () => {
    const runner = createQueryRunner(configFor(listenerOf('binary', 'PLAIN')), logger);
    await expectAppError(runner.start('SELECT no_such_column FROM enos.asset', { signal: new AbortController().signal }), 'hive_error', /no_such_column/);
  });

  it('cancels the query on the server when the query timeout passes', async () => {
    const fault = hive.faults.add({ match: 'timeout_probe', kind: 'delay', ms: 30_000, during: 'execute' });
    try {
      const runner = createQueryRunner(configFor(listenerOf('binary', 'PLAIN'), { queryTimeoutMs: 500 }), logger);
      await expectAppError(runner.start("SELECT count(*) AS x FROM enos.asset -- timeout_probe", { signal: new AbortController().signal }), 'hive_error', /did not finish within/);
      await expect.poll(() => hive.operations().find((op) => op.statement.includes('timeout_probe'))?.state).toMatch(/CANCELED|CLOSED/);
    } finally {
      fault.remove();
    }
  });

  it('says the export, not the query, ran out of time when the limit passes while rows stream', async () => {
    const fault = hive.faults.add({ match: 'slow_fetch_probe', kind: 'delay', ms: 400, during: 'fetch' });
    try {
      const runner = createQueryRunner(configFor(listenerOf('binary', 'PLAIN'), { queryTimeoutMs: 1_000, fetchSize: 100 }), logger);
      const query = await runner.start("SELECT asset_id, 'slow_fetch_probe' AS p FROM enos.measurement", { signal: new AbortController().signal });
      const drained = (async () => {
        for await (const batch of query.rowSets()) void batch;
      })();
      await expectAppError(drained, 'hive_error', /^The export did not finish within the time limit/);
      await query.close();
    } finally {
      fault.remove();
    }
  });

  it('does not submit the query when the export is cancelled while the connection opens', async () => {
    const runner = createQueryRunner(configFor(listenerOf('binary', 'PLAIN')), logger);
    const controller = new AbortController();
    const started = runner.start("SELECT 'cancelled_while_connecting' AS x", { signal: controller.signal });
    controller.abort(); // start() is now waiting for the connection
    await expectAppError(started, 'conflict', /cancelled/);
    expect(hive.operations().filter((op) => op.statement.includes('cancelled_while_connecting'))).toEqual([]);
  });

  it('fails fast when nothing listens', async () => {
    const runner = createQueryRunner(configFor({ ...listenerOf('binary', 'PLAIN'), port: 1 }, { callTimeoutMs: 3_000 }), logger);
    await expectAppError(runner.start('SELECT 1', { signal: new AbortController().signal }), 'hive_unavailable');
  });
});

/**
 * Every deadline of the Hive adapter, with full garbage collections forced while it is pending:
 * a connection to a server that accepts and never answers, a Thrift call the server holds, the
 * query time limit while Hive keeps the query running, and the catalog's wait for GetTables.
 * Each fails with its own readable error once its deadline passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HiveConfig } from '../../../app/src/config/config.js';
import { isAppError } from '../../../app/src/errors.js';
import { createHiveTableLister } from '../../../app/src/hive/catalog.js';
import { openHiveConnection } from '../../../app/src/hive/hive-connection.js';
import { createQueryRunner } from '../../../app/src/hive/query-runner.js';
import { createLogger } from '../../../app/src/logger.js';
import { startHiveStandIn, type HiveStandIn } from '../../../scripts/hive-stand-in/index.js';
import { settleUnderGc } from '../../support/forced-gc.js';
import { withSilentServer } from '../../support/silent-server.js';

const DEADLINE_MS = 2_000;
const GIVE_UP_MS = 25_000;
/** How long a fault holds Hive: far longer than any test may run, so only a deadline ends the wait. */
const FOREVER_MS = 600_000;
const logger = createLogger('silent');
let hive: HiveStandIn;

beforeAll(async () => {
  // Status calls answer at once, so the only thing that can end a wait is the deadline under test.
  hive = await startHiveStandIn({ users: { connector: 'gc-password' }, seedRows: 1_000, longPollingMaxMs: 100, listeners: [{ transport: 'binary', auth: 'PLAIN' }] });
});
afterAll(async () => hive?.close());

function configFor(port: number, overrides: Partial<HiveConfig> = {}): HiveConfig {
  return {
    host: '127.0.0.1',
    port,
    transport: 'binary',
    httpPath: '/cliservice',
    auth: 'PLAIN',
    username: 'connector',
    password: 'gc-password',
    kerberosService: 'hive',
    sessionConf: {},
    fetchSize: 1_000,
    pollIntervalMs: 50,
    callTimeoutMs: DEADLINE_MS,
    queryTimeoutMs: 600_000,
    ...overrides,
  };
}

async function expectFailureWithinDeadline(call: () => Promise<unknown>, code: string, message: RegExp) {
  const settled = await settleUnderGc(call, { giveUpAfterMs: GIVE_UP_MS });
  expect(settled.outcome, `still pending ${GIVE_UP_MS} ms after a ${DEADLINE_MS} ms deadline`).toBe('rejected');
  expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === code);
  expect((settled.error as Error).message).toMatch(message);
  expect(settled.elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS * 0.9);
}

describe('Hive deadlines under garbage collection', () => {
  it('fails a connection to a server that never answers', async () => {
    await withSilentServer(async (url) => {
      const port = Number(new URL(url).port);
      await expectFailureWithinDeadline(() => openHiveConnection(configFor(port)), 'hive_unavailable', /did not answer the connection within/);
    });
  });

  it('fails a Thrift call the server holds', async () => {
    // The second FetchResults: the first may take the query's whole time limit (a fetch task scans then).
    const fault = hive.faults.add({ match: 'gc_held_fetch', kind: 'delay', ms: FOREVER_MS, during: 'fetch', afterFetches: 1 });
    try {
      const runner = createQueryRunner(configFor(hive.listeners[0]!.port, { fetchSize: 100 }), logger);
      const query = await runner.start("SELECT asset_id, 'gc_held_fetch' AS probe FROM enos.asset", { signal: new AbortController().signal });
      await expectFailureWithinDeadline(
        async () => {
          for await (const batch of query.rowSets()) void batch;
        },
        'hive_unavailable',
        /did not answer FetchResults within/,
      );
      await query.close();
    } finally {
      fault.remove();
    }
  });

  it('cancels a query that Hive keeps running past the time limit', async () => {
    const fault = hive.faults.add({ match: 'gc_endless_query', kind: 'delay', ms: FOREVER_MS, during: 'execute' });
    try {
      const runner = createQueryRunner(configFor(hive.listeners[0]!.port, { callTimeoutMs: 60_000, queryTimeoutMs: DEADLINE_MS }), logger);
      await expectFailureWithinDeadline(
        () => runner.start('SELECT count(*) AS gc_endless_query FROM enos.asset', { signal: new AbortController().signal }),
        'hive_error',
        /did not finish within the time limit/,
      );
      await expect.poll(() => hive.operations().find((op) => op.statement.includes('gc_endless_query'))?.state).toMatch(/CANCELED|CLOSED/);
    } finally {
      fault.remove();
    }
  });

  // The stand-in holds the GetTables call itself (HiveServer2 runs metadata operations
  // synchronously); the catalog's own wait for a RUNNING GetTables is the second line.
  it('gives up listing tables when GetTables never finishes', async () => {
    const fault = hive.faults.add({ match: 'GetTables', kind: 'delay', ms: FOREVER_MS, during: 'execute' });
    try {
      const lister = createHiveTableLister(configFor(hive.listeners[0]!.port));
      await expectFailureWithinDeadline(() => lister('enos'), 'hive_unavailable', /did not answer GetTables within|did not list the tables of enos in time/);
    } finally {
      fault.remove();
    }
  });
});

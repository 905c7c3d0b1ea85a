import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHiveStandIn, type HiveStandIn, type ListenerInfo, type OperationInfo } from '../../../scripts/hive-stand-in/index.js';
import {
  TOperationState, TStatusCode, collectRowSets, columnValues, connect, fetchRowSets, int64, openSession, operationHandleOf, sessionHandleOf, type Connection, type Session,
} from './hive-client.js';

// Operation lifecycle over the real protocol: async execution, cancel (with DuckDB really
// interrupted), injected faults, dropped connections and rejected logins. Every wait is bounded.
let standIn: HiveStandIn;

beforeAll(async () => {
  standIn = await startHiveStandIn({
    seedRows: 20_000,
    listeners: [{ transport: 'binary', auth: 'PLAIN' }, { transport: 'binary', auth: 'NOSASL' }, { transport: 'http', auth: 'PLAIN' }],
  });
});

afterAll(async () => {
  await standIn?.close();
});

const listener = (transport: string, auth: string): ListenerInfo => standIn.listeners.find((l) => l.transport === transport && l.auth === auth)!;

/** A query DuckDB would need many minutes for: only an interrupt ends it. */
const SLOW_QUERY = 'SELECT count(*) AS n FROM range(1000000000000) AS t(i) WHERE hash(i) % 7 = 0';

/** Polls the stand-in's view of an operation until `accept` holds; bounded. */
async function operationState(marker: string, accept: (op: OperationInfo) => boolean, ms = 15_000): Promise<OperationInfo> {
  const deadline = Date.now() + ms;
  for (;;) {
    const op = standIn.operations().findLast((o) => o.statement.includes(marker));
    if (op && accept(op)) return op;
    if (Date.now() > deadline) throw new Error(`operation ${marker} never reached the expected state; last seen ${JSON.stringify(op)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function until(condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('operations', () => {
  let connection: Connection;
  let session: Session;

  beforeAll(async () => {
    connection = await connect(listener('binary', 'PLAIN'));
    session = await openSession(connection);
  });

  afterAll(async () => {
    await connection?.bounded(session.close(), 'CloseSession');
    connection?.close();
  });

  it('runs a query that needs a job in the background: RUNNING, then FINISHED', async () => {
    const fault = standIn.faults.add({ kind: 'delay', match: /async-marker/, ms: 2_000 });
    try {
      const operation = await connection.bounded(session.executeStatement('SELECT count(*) AS answer FROM enos.asset -- async-marker', { runAsync: true }), 'ExecuteStatement');
      const states: number[] = [];
      await connection.bounded(connection.utils.waitUntilReady(operation, false, (response: { operationState: number }) => void states.push(response.operationState)), 'waitUntilReady');
      expect(states[0]).toBe(TOperationState.RUNNING_STATE);
      expect(states.at(-1)).toBe(TOperationState.FINISHED_STATE);
      expect(new Set(states)).toEqual(new Set([TOperationState.RUNNING_STATE, TOperationState.FINISHED_STATE]));
      const { rowSets } = await collectRowSets(connection, operation);
      expect(rowSets.map((rowSet) => columnValues(rowSet, 0).values.map(int64)).flat()).toEqual([1000n]);
      await connection.bounded(operation.close(), 'CloseOperation');
      expect(fault.hits).toBe(1);
    } finally {
      fault.remove();
    }
  });

  it('waits PENDING while the cluster has no slot for the query (async compile), then runs it', async () => {
    const fault = standIn.faults.add({ kind: 'delay', during: 'queue', match: /queue-marker/, ms: 1_500 });
    const asyncCompile = await openSession(connection, { 'set:hiveconf:hive.server2.async.exec.async.compile': 'true' });
    try {
      const operation = await connection.bounded(asyncCompile.executeStatement('SELECT count(*) FROM enos.asset -- queue-marker', { runAsync: true }), 'ExecuteStatement');
      const states: number[] = [];
      await connection.bounded(connection.utils.waitUntilReady(operation, false, (response: { operationState: number }) => void states.push(response.operationState)), 'waitUntilReady');
      expect(states[0]).toBe(TOperationState.PENDING_STATE);
      expect(states.at(-1)).toBe(TOperationState.FINISHED_STATE);
      await connection.bounded(operation.close(), 'CloseOperation');
    } finally {
      fault.remove();
      await connection.bounded(asyncCompile.close(), 'CloseSession');
    }
  });

  it('blocks ExecuteStatement instead while the pool has no slot and compile is synchronous (the default)', async () => {
    const fault = standIn.faults.add({ kind: 'delay', during: 'queue', match: /sync-queue-marker/, ms: 1_000 });
    try {
      const started = Date.now();
      const operation = await connection.bounded(session.executeStatement('SELECT count(*) FROM enos.asset -- sync-queue-marker', { runAsync: true }), 'ExecuteStatement');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      const status = await connection.bounded(operation.status(false), 'GetOperationStatus');
      expect([TOperationState.RUNNING_STATE, TOperationState.FINISHED_STATE]).toContain(status.operationState);
      await connection.bounded(operation.close(), 'CloseOperation');
    } finally {
      fault.remove();
    }
  });

  it('runs a fetch task without a job: FINISHED at once, the scan and its delay in the first FetchResults', async () => {
    const fault = standIn.faults.add({ kind: 'delay', match: /fetch-task-marker/, ms: 1_500 });
    try {
      const operation = await connection.bounded(session.executeStatement('SELECT 42 AS answer -- fetch-task-marker', { runAsync: true }), 'ExecuteStatement');
      const status = await connection.bounded(operation.status(false), 'GetOperationStatus');
      expect(status.operationState).toBe(TOperationState.FINISHED_STATE);
      const started = Date.now();
      await connection.bounded(connection.utils.fetchAll(operation), 'fetchAll');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      expect(connection.utils.getResult(operation).getValue()).toEqual([{ answer: 42 }]);
      expect(standIn.operations().at(-1)).toMatchObject({ fetchTask: true, serialized: false });
      await connection.bounded(operation.close(), 'CloseOperation');
    } finally {
      fault.remove();
    }
  });

  it('ends a query that outlives hive.query.timeout.seconds TIMEDOUT, and stops it', async () => {
    const timed = await openSession(connection, { 'set:hiveconf:hive.query.timeout.seconds': '1' });
    try {
      const operation = await connection.bounded(timed.executeStatement(`${SLOW_QUERY} -- timeout-marker`, { runAsync: true }), 'ExecuteStatement');
      const states: number[] = [];
      await connection
        .bounded(connection.utils.waitUntilReady(operation, false, (response: { operationState: number }) => void states.push(response.operationState)), 'waitUntilReady')
        .catch(() => undefined);
      const status = await connection.bounded(operation.status(false), 'GetOperationStatus');
      expect(status.operationState).toBe(TOperationState.TIMEDOUT_STATE);
      expect(await operationState('timeout-marker', (op) => op.duckdb === 'interrupted')).toMatchObject({ state: 'TIMEDOUT' });
      await connection.bounded(operation.close(), 'CloseOperation');
    } finally {
      await connection.bounded(timed.close(), 'CloseSession');
    }
  });

  it('ignores a cancel of a FINISHED operation: its rows can still be fetched', async () => {
    const operation = await connection.bounded(session.executeStatement('SELECT count(*) AS n FROM enos.asset', { runAsync: true }), 'ExecuteStatement');
    await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
    await connection.bounded(operation.cancel(), 'CancelOperation');
    expect((await connection.bounded(operation.status(false), 'GetOperationStatus')).operationState).toBe(TOperationState.FINISHED_STATE);
    const { rowSets } = await collectRowSets(connection, operation);
    expect(rowSets.map((rowSet) => columnValues(rowSet, 0).values.map(int64)).flat()).toEqual([1000n]);
    await connection.bounded(operation.close(), 'CloseOperation');
  });

  it('cancels a running query, and the DuckDB query really stops', async () => {
    const operation = await connection.bounded(session.executeStatement(`${SLOW_QUERY} -- cancel-marker`, { runAsync: true }), 'ExecuteStatement');
    await operationState('cancel-marker', (op) => op.duckdb === 'executing');
    await connection.bounded(operation.cancel(), 'CancelOperation');
    const status = await connection.bounded(operation.status(false), 'GetOperationStatus');
    expect(status.operationState).toBe(TOperationState.CANCELED_STATE);
    // Without the interrupt DuckDB would keep scanning for minutes; with it the query ends.
    expect(await operationState('cancel-marker', (op) => op.duckdb === 'interrupted')).toMatchObject({ state: 'CANCELED' });
    const handle = operationHandleOf(operation);
    const fetched = await connection.bounded(connection.driver.fetchResults({ operationHandle: handle, orientation: 0, maxRows: 10 }), 'FetchResults');
    expect(fetched.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, errorMessage: 'Expected states: [FINISHED], but found CANCELED' });
    await connection.bounded(operation.close(), 'CloseOperation');
  });

  it('fails an operation with an injected fault: ERROR state for async, error status for sync', async () => {
    const fault = standIn.faults.add({ kind: 'fail', match: 'fail-marker', message: 'injected: vertex failed', sqlState: '08S01', errorCode: 2 });
    try {
      const operation = await connection.bounded(session.executeStatement('SELECT count(*) FROM enos.asset -- fail-marker', { runAsync: true }), 'ExecuteStatement');
      const status = await connection.bounded(operation.status(false), 'GetOperationStatus');
      expect(status).toMatchObject({ operationState: TOperationState.ERROR_STATE, errorMessage: 'injected: vertex failed', sqlState: '08S01', errorCode: 2 });
      await connection.bounded(operation.close(), 'CloseOperation');
      await expect(connection.bounded(session.executeStatement('SELECT count(*) FROM enos.power_load -- fail-marker'), 'ExecuteStatement')).rejects.toMatchObject({
        name: 'Status Error',
        message: 'injected: vertex failed',
      });
    } finally {
      fault.remove();
    }
  });

  it('fails in the middle of a fetch when the fault says after how many', async () => {
    const fault = standIn.faults.add({ kind: 'fail', match: 'fetch-fail-marker', afterFetches: 2 });
    try {
      const operation = await connection.bounded(session.executeStatement('SELECT * FROM enos.measurement -- fetch-fail-marker', { runAsync: true }), 'ExecuteStatement');
      await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
      operation.setMaxRows(1_000);
      await connection.bounded(operation.fetch(), 'FetchResults 1');
      await connection.bounded(operation.fetch(), 'FetchResults 2');
      await expect(connection.bounded(operation.fetch(), 'FetchResults 3')).rejects.toMatchObject({
        message: expect.stringContaining('Execution Error, return code 2'),
      });
      expect((await connection.bounded(operation.status(false), 'GetOperationStatus')).operationState).toBe(TOperationState.ERROR_STATE);
      await connection.bounded(operation.close(), 'CloseOperation');
    } finally {
      fault.remove();
    }
  });

  it('re-reads the result from the start on FETCH_FIRST and refuses scrolling backwards', async () => {
    // Columnar row sets, so the client's maxRows counts (a serialized result goes a blob at a time).
    const columnar = await openSession(connection, { 'set:hiveconf:hive.server2.thrift.resultset.serialize.in.tasks': 'false' });
    const operation = await connection.bounded(columnar.executeStatement('SELECT asset_id FROM enos.asset ORDER BY asset_id', { runAsync: true }), 'ExecuteStatement');
    await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
    const handle = operationHandleOf(operation);
    const fetch = (orientation: number) => connection.bounded(connection.driver.fetchResults({ operationHandle: handle, orientation, maxRows: 3 }), 'FetchResults');
    const first = await fetch(4);
    const second = await fetch(0);
    const again = await fetch(4);
    const ids = (r: typeof first) => columnValues(r.results!, 0).values;
    expect(ids(first)).toEqual(['INV-00001', 'INV-00004', 'INV-00007']);
    expect(ids(second)).toEqual(['INV-00010', 'INV-00013', 'INV-00016']);
    expect(ids(again)).toEqual(ids(first));
    const prior = await fetch(1);
    expect(prior.status).toMatchObject({ statusCode: TStatusCode.ERROR_STATUS, errorMessage: 'The fetch type FETCH_PRIOR is not supported for this resultset' });
    await connection.bounded(operation.close(), 'CloseOperation');
    await connection.bounded(columnar.close(), 'CloseSession');
  });
});

describe.each([
  ['binary', 'PLAIN'],
  ['binary', 'NOSASL'],
  ['http', 'PLAIN'],
])('a connection dropped mid-fetch over %s %s', (transport, auth) => {
  it('gives the client a clear error instead of a hang', async () => {
    const marker = `drop-marker-${transport}-${auth}`;
    const fault = standIn.faults.add({ kind: 'drop-during-fetch', match: marker, afterFetches: 1 });
    const connection = await connect(listener(transport, auth));
    try {
      const session = await openSession(connection);
      const operation = await connection.bounded(session.executeStatement(`SELECT * FROM enos.measurement -- ${marker}`, { runAsync: true }), 'ExecuteStatement');
      await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
      operation.setMaxRows(2_000);
      await connection.bounded(operation.fetch(), 'FetchResults 1');
      expect(columnValues(operation.getData()[0]!, 0).values).toHaveLength(2_000);
      const failure = await connection.bounded(operation.fetch(), 'FetchResults 2', 15_000).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(failure!.message).not.toMatch(/did not settle/); // the connection broke; no timeout was needed
      expect(failure!.message).toMatch(/ECONNRESET|socket hang up|closed|aborted/i);
      if (transport === 'binary') {
        // HiveServer2 closes a binary connection's sessions with it.
        await operationState(marker, (op) => op.state === 'CLOSED');
      }
    } finally {
      fault.remove();
      connection.close();
    }
  });
});

describe('connections', () => {
  it('rejects a bad PLAIN password with HiveServer2’s SASL message', async () => {
    await expect(connect(listener('binary', 'PLAIN'), { username: 'hive', password: 'wrong' })).rejects.toMatchObject({
      message: 'Authentication error: Error validating the login',
    });
    await expect(connect(listener('binary', 'PLAIN'), { username: 'nobody', password: 'hive' })).rejects.toMatchObject({
      message: 'Authentication error: Error validating the login',
    });
  });

  it('rejects bad HTTP Basic credentials with 401', async () => {
    const connection = await connect(listener('http', 'PLAIN'), { username: 'hive', password: 'wrong' });
    try {
      await expect(openSession(connection)).rejects.toMatchObject({ statusCode: 401 });
    } finally {
      connection.close();
    }
  });

  it('closes the sessions of a client that goes away, and stops their queries', async () => {
    const connection = await connect(listener('binary', 'NOSASL'));
    const session = await openSession(connection);
    const before = standIn.openSessions();
    await connection.bounded(session.executeStatement(`${SLOW_QUERY} -- vanish-marker`, { runAsync: true }), 'ExecuteStatement');
    await operationState('vanish-marker', (op) => op.duckdb === 'executing');
    connection.close();
    expect(await operationState('vanish-marker', (op) => op.duckdb === 'interrupted')).toMatchObject({ state: 'CLOSED' });
    await until(() => standIn.openSessions() === before - 1, 'the session closing');
    // The handle is dead for everyone else too.
    const other = await connect(listener('binary', 'PLAIN'));
    try {
      const response = await other.bounded(other.driver.executeStatement({ sessionHandle: sessionHandleOf(session), statement: 'SELECT 1' }), 'ExecuteStatement');
      expect(response.status.statusCode).toBe(TStatusCode.ERROR_STATUS);
    } finally {
      other.close();
    }
  });

  it('serves a delayed fetch and several listeners from one database', async () => {
    const fault = standIn.faults.add({ kind: 'delay', during: 'fetch', match: 'slow-fetch-marker', ms: 100 });
    try {
      const counts = await Promise.all(
        standIn.listeners.map(async (l) => {
          const connection = await connect(l);
          try {
            const session = await openSession(connection);
            const { rowSets } = await fetchRowSets(connection, session, "SELECT asset_id FROM enos.asset WHERE asset_type = 'meter' -- slow-fetch-marker", 100);
            return rowSets.reduce((n, r) => n + columnValues(r, 0).values.length, 0);
          } finally {
            connection.close();
          }
        }),
      );
      expect(counts).toEqual([333, 333, 333]);
      expect(fault.hits).toBe(3);
    } finally {
      fault.remove();
    }
  });
});

/**
 * The connector against HiveServer2 as real clusters run it (scripts/hive-stand-in/README.md,
 * "Real HiveServer2 behaviour"): each Hive version, serialized row sets and qualified column
 * names on by default, strict partition checks, session refusals, time limits, progress, query
 * labels and impersonation. Everything goes through the connector's HTTP API.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HIVE_VERSIONS, type ClusterOptions, type HiveStandIn, type HiveVersion } from '../../../scripts/hive-stand-in/index.js';
import { HIVE_USER, startConnectorStack, startHiveForTests, type ConnectorStack } from '../../support/connector-stack.js';

const ROWS = 20_000;

async function download(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

async function exportOf(stack: ConnectorStack, token: string, sql: string) {
  const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql });
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
  return stack.waitFor(token, submitted.json.id);
}

/** One stand-in per cluster shape, one connector per test group, closed after the file. */
function useCluster(cluster: ClusterOptions, storage: 'blob' | 'local' = 'blob', env: Record<string, string> = {}) {
  const state: { hive?: HiveStandIn; stack?: ConnectorStack; token?: string } = {};
  beforeAll(async () => {
    state.hive = await startHiveForTests(ROWS, cluster);
    state.stack = await startConnectorStack({ storage, hive: state.hive, env });
    state.token = await state.stack.signIn('demo');
  });
  afterAll(async () => {
    await state.stack?.stop();
    await state.hive?.close();
  });
  return state as Required<typeof state>;
}

const PROBE = 'SELECT * FROM enos.type_probe ORDER BY id';
const MEASUREMENTS = 'SELECT asset_id, ts, point, value, quality FROM enos.measurement ORDER BY asset_id, ts, point';
const probeCsv = new Map<string, Buffer>();

describe.each(HIVE_VERSIONS.flatMap((version) => (['blob', 'local'] as const).map((storage) => [version, storage] as const)))(
  'exports from Hive %s with the %s storage method',
  (version: HiveVersion, storage) => {
    const cluster = useCluster({ hiveVersion: version }, storage);

    it('writes every row, with bare column names, whatever the cluster serializes or qualifies', async () => {
      const job = await exportOf(cluster.stack, cluster.token, MEASUREMENTS);
      expect(job).toMatchObject({ status: 'succeeded', progress: { rows: ROWS, phase: 'done' } });
      expect(job.schema).toEqual([
        { name: 'asset_id', type: 'string', nullable: true },
        { name: 'ts', type: 'timestamp', nullable: true },
        { name: 'point', type: 'string', nullable: true },
        { name: 'value', type: 'double', nullable: true },
        { name: 'quality', type: 'int', nullable: true },
      ]);
      const records = parse(await download(job.downloadUrl)) as string[][];
      expect(records[0]).toEqual(['asset_id', 'ts', 'point', 'value', 'quality']);
      expect(records).toHaveLength(ROWS + 1);
      // The connector asked for columnar row sets, though the cluster serializes by default.
      const operation = cluster.hive.operations().find((op) => op.statement === MEASUREMENTS)!;
      expect(operation).toMatchObject({ serialized: false, conf: { 'hive.server2.thrift.resultset.serialize.in.tasks': 'false' } });
    });

    it('writes the type probe byte for byte as every other Hive version does', async () => {
      const job = await exportOf(cluster.stack, cluster.token, PROBE);
      expect(job.status).toBe('succeeded');
      const csv = await download(job.downloadUrl);
      const [header] = parse(csv, { to: 1 }) as string[][];
      expect(header!.slice(0, 3)).toEqual(['id', 'c_boolean', 'c_tinyint']);
      expect(job.schema.find((c: { name: string }) => c.name === 'c_decimal_wide').type).toBe('decimal(38,6)');
      expect(job.schema.find((c: { name: string }) => c.name === 'c_varchar').type).toBe('varchar(20)');
      const first = probeCsv.get(storage);
      if (first) expect(csv.toString('utf8')).toBe(first.toString('utf8'));
      else probeCsv.set(storage, csv);
    });
  },
);

describe('a cluster that serializes results in its tasks and lets the connector keep it', () => {
  const serialized = useCluster({}, 'blob', { HIVE_SESSION_CONF: JSON.stringify({ 'hive.server2.thrift.resultset.serialize.in.tasks': 'true' }) });
  const columnar = useCluster({}, 'blob');

  it('reads the serialized row sets: every row, and the same bytes as a columnar export', async () => {
    for (const sql of [MEASUREMENTS, PROBE]) {
      const [a, b] = [await exportOf(serialized.stack, serialized.token, sql), await exportOf(columnar.stack, columnar.token, sql)];
      expect(serialized.hive.operations().find((op) => op.statement === sql)).toMatchObject({ serialized: true });
      expect(columnar.hive.operations().find((op) => op.statement === sql)).toMatchObject({ serialized: false });
      expect((await download(a.downloadUrl)).equals(await download(b.downloadUrl)), sql).toBe(true);
    }
  });
});

describe('what a cluster refuses, told to the user', () => {
  const hive = { stand: undefined as HiveStandIn | undefined };
  let stack: ConnectorStack;
  let token: string;
  beforeAll(async () => {
    hive.stand = await startHiveForTests(ROWS, { restricted: ['hive.server2.thrift.resultset.serialize.in.tasks'] });
    stack = await startConnectorStack({ storage: 'blob', hive: hive.stand });
    token = await stack.signIn('demo');
  });
  afterAll(async () => {
    await stack?.stop();
    await hive.stand?.close();
  });

  it('a session setting on the restricted list: the cluster\'s problem, with Hive\'s reason', async () => {
    const job = await exportOf(stack, token, 'SELECT * FROM enos.asset LIMIT 5');
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('hive_unavailable');
    expect(job.error.message).toMatch(/refused the connector's session settings.*Cannot modify hive\.server2\.thrift\.resultset\.serialize\.in\.tasks at runtime/);
  });
});

describe('session and query failures on a Hive 3.1 cluster', () => {
  const cluster = useCluster({ connectionLimitPerUser: 1 });

  it('an unfiltered scan of a partitioned table: Hive\'s strict-mode reason; a filtered one exports with the partition column last', async () => {
    const refused = await exportOf(cluster.stack, cluster.token, 'SELECT * FROM enos.measurement_daily');
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatchObject({ code: 'hive_error' });
    expect(refused.error.message).toMatch(/\[Error 10056\]: Queries against partitioned tables without a partition filter/);
    const filtered = await exportOf(cluster.stack, cluster.token, "SELECT * FROM enos.measurement_daily WHERE dt = '2024-01-01'");
    expect(filtered.status).toBe('succeeded');
    expect(filtered.schema.at(-1)).toMatchObject({ name: 'dt', type: 'string' });
  });

  it('the per-user connection limit: a 503-like error with Hive\'s reason', async () => {
    const fault = cluster.hive.faults.add({ kind: 'delay', match: 'limit_holder', ms: 5_000, during: 'execute' });
    try {
      const holder = await cluster.stack.api(cluster.token, 'POST', '/api/v1/exports', { sql: "SELECT count(*) AS limit_holder FROM enos.asset" });
      await expect.poll(() => cluster.hive.operations().some((op) => op.statement.includes('limit_holder'))).toBe(true);
      const refused = await exportOf(cluster.stack, cluster.token, 'SELECT * FROM enos.asset LIMIT 1');
      expect(refused.error).toMatchObject({ code: 'hive_unavailable' });
      expect(refused.error.message).toContain(`Connection limit per user reached (user: ${HIVE_USER.name} limit: 1)`);
      await cluster.stack.waitFor(cluster.token, holder.json.id);
    } finally {
      fault.remove();
    }
  });

  it('a failed job: Hive\'s reason kept, the cluster\'s hosts, paths and YARN ids left out', async () => {
    const fault = cluster.hive.faults.add({ kind: 'fail', match: 'doomed' });
    try {
      const job = await exportOf(cluster.stack, cluster.token, 'SELECT count(*) AS doomed FROM enos.asset');
      expect(job.error.code).toBe('hive_error');
      expect(job.error.message).toContain('Execution Error, return code 2 from org.apache.hadoop.hive.ql.exec.tez.TezTask');
      expect(job.error.message).toContain('Cannot obtain block length');
      expect(job.error.message).not.toMatch(/hdfs:|enos\.internal|10\.0\.3\.|application_\d|vertex_\d|attempt_\d|blk_/);
    } finally {
      fault.remove();
    }
  });

  it('a row set the connector cannot read fails the export loudly instead of losing rows', async () => {
    const fault = cluster.hive.faults.add({ kind: 'malformed-rowset', match: 'malformed_probe' });
    try {
      const job = await exportOf(cluster.stack, cluster.token, "SELECT asset_id, name, 'malformed_probe' AS p FROM enos.asset");
      expect(job.status).toBe('failed');
      expect(job.error.message).toMatch(/cannot read \(2 columns for a schema of 3\)/);
      expect(job.downloadUrl).toBeNull();
    } finally {
      fault.remove();
    }
  });

  it('shows Hive\'s own progress while the query runs on the cluster', async () => {
    const fault = cluster.hive.faults.add({ kind: 'delay', match: 'progress_probe', ms: 3_000, during: 'execute' });
    try {
      const submitted = await cluster.stack.api(cluster.token, 'POST', '/api/v1/exports', { sql: 'SELECT asset_type, count(*) AS progress_probe FROM enos.asset GROUP BY asset_type' });
      const running = await cluster.stack.waitFor(cluster.token, submitted.json.id, (job) => job.progress.phase === 'hive_running' && job.progress.hive?.percent > 0, 20_000);
      expect(running.progress.hive.summary).toMatch(/^VERTICES: \d\d\/02$/);
      const done = await cluster.stack.waitFor(cluster.token, submitted.json.id);
      expect(done).toMatchObject({ status: 'succeeded', progress: { phase: 'done', rows: 3 } });
    } finally {
      fault.remove();
    }
  });

  it('labels every query with the export and the user, for the cluster\'s own records', async () => {
    const job = await exportOf(cluster.stack, cluster.token, "SELECT 'label_probe' AS x");
    const operation = cluster.hive.operations().find((op) => op.statement.includes('label_probe'))!;
    expect(operation.conf['hive.query.name']).toBe(`enos-aml-connector export ${job.id} for demo`);
    expect(operation.conf['hive.query.tag']).toBeUndefined(); // Hive 3.1 has no such setting
  });
});

describe('a first FetchResults that scans for longer than one call may take', () => {
  const cluster = useCluster({}, 'blob', { HIVE_CALL_TIMEOUT_MS: '1000' });

  it('gets the rest of the query\'s time limit', async () => {
    const fault = cluster.hive.faults.add({ kind: 'delay', match: 'slow_scan', ms: 2_500, during: 'execute' });
    try {
      const job = await exportOf(cluster.stack, cluster.token, "SELECT asset_id, 'slow_scan' AS s FROM enos.asset");
      expect(job).toMatchObject({ status: 'succeeded', progress: { rows: 1000 } });
      expect(cluster.hive.operations().find((op) => op.statement.includes('slow_scan'))).toMatchObject({ fetchTask: true });
    } finally {
      fault.remove();
    }
  });
});

describe('a cluster time limit (hive.query.timeout.seconds)', () => {
  const cluster = useCluster({ conf: { 'hive.query.timeout.seconds': '1' } });

  it('ends the export failed with Hive\'s time limit named', async () => {
    const fault = cluster.hive.faults.add({ kind: 'delay', match: 'timeout_probe', ms: 10_000, during: 'execute' });
    try {
      const job = await exportOf(cluster.stack, cluster.token, 'SELECT count(*) AS timeout_probe FROM enos.asset');
      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'hive_error', message: expect.stringContaining('Hive stopped the query at its time limit') });
    } finally {
      fault.remove();
    }
  });
});

describe('Hive 4.0 with SQL-standard authorization and impersonation', () => {
  const cluster = useCluster(
    { hiveVersion: '4.0', sqlStdAuthorization: true, proxyUsers: { [HIVE_USER.name]: ['demo'] } },
    'blob',
    { HIVE_IMPERSONATION: 'proxy-user', HIVE_SERVER_VERSION: 'auto' },
  );

  it('runs the query as the user and tags it', async () => {
    const job = await exportOf(cluster.stack, cluster.token, "SELECT 'proxy_probe' AS x");
    expect(job.status).toBe('succeeded');
    const operation = cluster.hive.operations().find((op) => op.statement.includes('proxy_probe'))!;
    expect(operation).toMatchObject({ user: 'demo', realUser: HIVE_USER.name });
    expect(operation.conf['hive.query.tag']).toBe(`enos-aml-${job.id}`);
  });

  it('previews as the user too, named and tagged as a preview', async () => {
    const response = await cluster.stack.api(cluster.token, 'POST', '/api/v1/previews', { sql: "SELECT 'proxy_preview_probe' AS x" });
    expect(response.json).toEqual({ schema: [{ name: 'x', type: 'string', nullable: true }], rows: [['proxy_preview_probe']], truncated: false });
    const operation = cluster.hive.operations().find((op) => op.statement.includes('proxy_preview_probe'))!;
    expect(operation).toMatchObject({ user: 'demo', realUser: HIVE_USER.name, state: 'CLOSED' });
    expect(operation.conf['hive.query.name']).toMatch(/^enos-aml-connector preview [0-9a-f-]{36} for demo$/);
    expect(operation.conf['hive.query.tag']).toMatch(/^enos-aml-preview-[0-9a-f-]{36}$/);
  });

  it('refuses, as forbidden, a user the cluster does not let the connector act as', async () => {
    const other = await cluster.stack.signIn('other');
    const job = await exportOf(cluster.stack, other, 'SELECT * FROM enos_other.site');
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'hive_forbidden', message: expect.stringContaining(`Failed to validate proxy privilege of ${HIVE_USER.name} for other`) });
  });
});

describe('Hive 3.1 with SQL-standard authorization, where hive.query.name is not on the safe list', () => {
  const cluster = useCluster({ sqlStdAuthorization: true });

  it('opens the session again without labels and exports', async () => {
    const job = await exportOf(cluster.stack, cluster.token, "SELECT 'unlabelled_probe' AS x");
    expect(job.status).toBe('succeeded');
    const operation = cluster.hive.operations().find((op) => op.statement.includes('unlabelled_probe'))!;
    expect(operation.conf['hive.query.name']).toBeUndefined();
  });
});

describe('a default database that does not exist', () => {
  const cluster = useCluster({}, 'blob', { HIVE_DEFAULT_DATABASE: 'no_such_db' });

  it('fails the export with Hive\'s reason, as the user\'s to fix', async () => {
    const job = await exportOf(cluster.stack, cluster.token, 'SELECT * FROM enos.asset LIMIT 1');
    expect(job.error).toMatchObject({ code: 'hive_error', message: expect.stringContaining('Database no_such_db does not exist') });
  });
});

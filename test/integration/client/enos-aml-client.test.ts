/**
 * The Python helper as a notebook uses it: fetched from the connector at /client/enos_aml.py (no
 * sign-in), imported by Debian's python3 with python3-pandas, driven with a personal access
 * token against the real connector stack: submit, poll, download, DataFrame with every probe
 * column typed; the guard's and Hive's refusals as EnosAmlError with the API's code; a full
 * queue (429) whose Retry-After outlasts the caller's patience. Waiting out Retry-After,
 * checksums, several parts and Parquet bytes are in test/unit/client/ (a scripted server:
 * this branch's connector has no multi-part or Parquet exports yet).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';
import { DESCRIBE_FRAME, runPythonScript } from '../../support/debian-python.js';
import { ints, PROBE, PROBE_DTYPES, PROBE_VALUES, type Frame } from '../../support/type-probe-frame.js';

const HELPER = fileURLToPath(new URL('../../../app/client/enos_aml.py', import.meta.url));
const standIns = useStandIns(100);

/** Imports the helper from the folder in argv[1] and makes a client of argv[2] (URL) and argv[3] (token). */
const PRELUDE = `${DESCRIBE_FRAME}
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
from enos_aml import Client, EnosAmlError

client = Client(sys.argv[2], sys.argv[3], poll_interval=0.1)
call = json.loads(sys.argv[4])
`;

/** One call of the helper named in argv[4]; answers the frame, or the EnosAmlError's fields. */
const CALL = `${PRELUDE}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        method = getattr(client, call["method"])
        result = method(*call.get("args", []), **call.get("kwargs", {}))
        answer = {"frame": frame_json(result), "attrs": dict(result.attrs)} if hasattr(result, "dtypes") else {"result": result}
    except EnosAmlError as error:
        answer = {"error": {"code": error.code, "message": error.message, "status": error.status, "details": error.details}}
answer["warnings"] = [str(warning.message) for warning in caught]
print(json.dumps(answer, default=str))
`;

interface Answer {
  frame?: Frame;
  attrs?: Record<string, unknown>;
  result?: unknown;
  error?: { code: string; message: string; status: number | null; details: Record<string, any> };
  warnings: string[];
}

describe('the Python helper (app/client/enos_aml.py)', () => {
  let stack: ConnectorStack;
  let accessToken: string;
  let helperDir: string;

  const run = async (script: string, args: Record<string, unknown>): Promise<any> =>
    JSON.parse(await runPythonScript(script, { args: [helperDir, stack.url, accessToken, JSON.stringify(args)] }));
  const call = (method: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): Promise<Answer> => run(CALL, { method, args, kwargs });

  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'local', hive: standIns.hive, enos: standIns.enos, env: { JOBS_MAX_PER_USER: '1' } });
    const session = await stack.signIn('demo');
    const created = await stack.api(session, 'POST', '/api/v1/tokens', { name: 'python helper test' });
    expect(created.status).toBe(201);
    accessToken = created.json.secret;
    // The notebook's copy is the one the connector serves.
    helperDir = mkdtempSync(path.join(tmpdir(), 'enos-aml-helper-'));
    writeFileSync(path.join(helperDir, 'enos_aml.py'), Buffer.from(await (await fetch(`${stack.url}/client/enos_aml.py`)).arrayBuffer()));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(helperDir, { recursive: true, force: true });
  });

  it('is served without sign-in as text/x-python, cacheable for a few minutes, revalidated by its ETag', async () => {
    const response = await fetch(`${stack.url}/client/enos_aml.py`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/x-python; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(Buffer.from(await response.arrayBuffer()).equals(readFileSync(HELPER))).toBe(true);
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    // fetch adds Cache-Control: no-cache (an end-to-end reload) to a conditional request unless told otherwise.
    const again = await fetch(`${stack.url}/client/enos_aml.py`, { headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' } });
    expect(again.status).toBe(304);
  });

  it('export(format="csv"): submits, polls, downloads and types every probe column', async () => {
    const answer = await call('export', [PROBE], { format: 'csv', timeout: 120 });
    expect(answer.error).toBeUndefined();
    const frame = answer.frame!;
    expect(frame.columns).toEqual(Object.keys(PROBE_DTYPES));
    expect(frame.dtypes).toEqual(PROBE_DTYPES);
    for (const [column, values] of Object.entries(PROBE_VALUES)) expect(frame.values[column], column).toEqual(values);
    expect(answer.attrs).toMatchObject({ truncated: false });
    const job = await stack.api(accessToken, 'GET', `/api/v1/exports/${answer.attrs!.export_id as string}`);
    expect(job.json).toMatchObject({ status: 'succeeded', format: 'csv', sql: PROBE });
    // pandas 1.5 cannot hold DATE 9999-12-31 in datetime64[ns]: the column keeps its text, and says so.
    expect(answer.warnings).toEqual(["column 'c_date' holds a date outside pandas' range; kept as text"]);
  });

  it('export(format="csv.gz") and export_urls()', async () => {
    const answer = await call('export', ['SELECT id, c_bigint, c_string, c_date FROM enos.type_probe WHERE id <> 4 ORDER BY id'], { format: 'csv.gz' });
    expect(answer.frame!.dtypes).toEqual({ id: 'Int32', c_bigint: 'Int64', c_string: 'string', c_date: 'datetime64[ns]' });
    expect(answer.frame!.values.c_string).toEqual(ints('str', ['a', null, '', 'five', null, 'seven', 'eight', 'nine', null, 'eleven']));
    expect(answer.warnings).toEqual([]);
    const urls = await call('export_urls', ['SELECT asset_id FROM enos.asset LIMIT 3'], { format: 'csv' });
    const [url] = urls.result as string[];
    expect(url).toMatch(new RegExp(`^${stack.url}/d/`));
    expect((await fetch(url!)).status).toBe(200);
  });

  it('format="parquet": downloads the file byte for byte (its sha256 is the local download\'s ETag); reading it needs pyarrow, which Debian lacks', async () => {
    const sql = 'SELECT * FROM enos.type_probe ORDER BY id';
    const script = `${PRELUDE}
import hashlib
job = client.export_job(call["sql"], format="parquet")
parts = [client.download(part) for part in job.get("files") or [{"url": job["downloadUrl"]}]]
result = {"url": job["downloadUrl"], "format": job["format"], "sha256": [hashlib.sha256(p).hexdigest() for p in parts],
          "magic": [p[:4].decode() + p[-4:].decode() for p in parts]}
try:
    client.read(job)
except ImportError as error:
    result["read"] = str(error)
print(json.dumps(result))
`;
    const answer = (await run(script, { sql })) as { url: string; format: string; sha256: string[]; magic: string[]; read: string };
    expect(answer.format).toBe('parquet');
    expect(answer.magic).toEqual(['PAR1PAR1']);
    const served = await fetch(answer.url);
    expect(served.headers.get('etag')).toBe(`"${answer.sha256[0]}"`);
    expect(answer.read).toMatch(/reading Parquet needs pyarrow/);
  });

  it("refusals are EnosAmlError with the API's code, message, status and details", async () => {
    const rejected = await call('export', ['DROP TABLE enos.asset'], { format: 'csv' });
    expect(rejected.error).toMatchObject({ code: 'sql_rejected', status: 400 });
    expect(rejected.error!.message).toMatch(/DROP statements are not allowed/);
    const forbidden = await call('export', ['SELECT * FROM enos_other.site'], { format: 'csv' });
    expect(forbidden.error).toMatchObject({ code: 'table_forbidden', status: 403 });
    expect(forbidden.error!.message).toContain('enos_other.site');
  });

  it("an export that fails on Hive is EnosAmlError with the export's own error code", async () => {
    const failed = await call('export', ['SELECT * FROM enos.no_such_table'], { format: 'csv', timeout: 120 });
    expect(failed.error).toMatchObject({ code: 'hive_error', status: null });
    expect(failed.error!.details.export).toMatchObject({ status: 'failed', error: { code: 'hive_error' } });
  });

  it('a full queue (429) whose Retry-After outlasts the timeout is rate_limited at once, and no export is made', async () => {
    const hold = stack.hive.faults.add({ kind: 'delay', match: 'client_hold_slot', ms: 20_000, during: 'execute' });
    const held = await stack.api(accessToken, 'POST', '/api/v1/exports', { sql: 'SELECT count(*) AS client_hold_slot FROM enos.asset' });
    try {
      expect(held.status).toBe(202);
      const before = (await stack.api(accessToken, 'GET', '/api/v1/exports')).json.exports.length;
      const answer = await call('submit', ['SELECT 1 AS x'], { format: 'csv', timeout: 5 });
      expect(answer.error).toMatchObject({ code: 'rate_limited', status: 429 });
      expect((await stack.api(accessToken, 'GET', '/api/v1/exports')).json.exports.length).toBe(before);
    } finally {
      await stack.api(accessToken, 'POST', `/api/v1/exports/${held.json.id}/cancel`);
      hold.remove();
      await stack.waitFor(accessToken, held.json.id);
    }
  });
});

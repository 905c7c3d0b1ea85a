/**
 * The Python helper's own rules, against a scripted HTTP server that answers what the
 * connector's contract says (job JSON with `files`, sha256, several parts, Parquet, previews) —
 * the parts this branch's connector cannot produce yet; the real end-to-end runs are in
 * test/integration/client/. Run by Debian's python3 with python3-pandas.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESCRIBE_FRAME, runPython, runPythonScript } from '../../support/debian-python.js';

const HELPER_DIR = path.dirname(fileURLToPath(new URL('../../../app/client/enos_aml.py', import.meta.url)));
const TOKEN = 'enosaml_pat_test-token';

interface Seen {
  method: string;
  path: string;
  at: number;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
let seen: Seen[];
let routes: Map<string, Handler>;

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Runs `code` with `client = Client(base, TOKEN, poll_interval=0.1)`; prints what it prints. */
async function python(code: string): Promise<any> {
  const script = `${DESCRIBE_FRAME}
import json, sys, warnings
sys.path.insert(0, ${JSON.stringify(HELPER_DIR)})
sys.dont_write_bytecode = True
from enos_aml import Client, EnosAmlError
client = Client(${JSON.stringify(base)}, ${JSON.stringify(TOKEN)}, poll_interval=0.1, max_poll_interval=0.4)
def error_json(error):
    return {"code": error.code, "message": error.message, "status": error.status, "details": error.details}
${code}
`;
  return JSON.parse(await runPythonScript(script));
}

const SCHEMA = [
  { name: 'id', type: 'bigint', nullable: true },
  { name: 'name', type: 'string', nullable: true },
  { name: 'amount', type: 'decimal(38,6)', nullable: true },
];
const PART_1 = Buffer.from('id,name,amount\r\n9007199254740993,"",1.000001\r\n,,\r\n');
const PART_2 = Buffer.from('id,name,amount\r\n-9223372036854775808,"a,b",\r\n3,x,99999999999999999999999999999999.999999\r\n');

function succeeded(files: unknown[], extra: Record<string, unknown> = {}) {
  return { id: 'job-1', status: 'succeeded', format: 'csv', schema: SCHEMA, files, truncated: false, error: null, ...extra };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, path: req.url!, at: performance.now(), headers: req.headers, body });
      const handler = routes.get(route);
      if (handler) handler(req, res, body);
      else json(res, 404, { error: { code: 'not_found', message: `No route for ${route}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  routes = new Map();
});

/** POST answers 202 queued; GET answers the statuses in turn, the last one for good. */
function scriptExport(statuses: unknown[]): void {
  routes.set('POST /api/v1/exports', (_req, res) => json(res, 202, { id: 'job-1', status: 'queued' }));
  let poll = 0;
  routes.set('GET /api/v1/exports/job-1', (_req, res) => json(res, 200, statuses[Math.min(poll++, statuses.length - 1)]));
}

function serveParts(parts: Record<string, Buffer>): { url: string; name: string; bytes: number; sha256: string; rows: number }[] {
  return Object.entries(parts).map(([name, data]) => {
    routes.set(`GET /parts/${name}`, (_req, res) => res.writeHead(200, { 'content-type': 'text/csv' }).end(data));
    return { url: `${base}/parts/${name}?sig=abc`, name, bytes: data.length, sha256: sha256(data), rows: 2 };
  });
}

describe('Client (app/client/enos_aml.py)', () => {
  it('joins several CSV parts after checking each sha256, typed from the schema; the token goes to the API only', async () => {
    const files = serveParts({ 'part-1.csv': PART_1, 'part-2.csv': PART_2 });
    scriptExport([{ id: 'job-1', status: 'running' }, succeeded(files, { mltableUrl: `${base}/parts/MLTable` })]);
    const out = await python('describe(client.export("SELECT 1", format="csv"))');
    expect(out.dtypes).toEqual({ id: 'Int64', name: 'string', amount: 'object' });
    expect(out.values.id).toEqual([['int', '9007199254740993'], null, ['int', '-9223372036854775808'], ['int', '3']]);
    expect(out.values.name).toEqual([['str', ''], null, ['str', 'a,b'], ['str', 'x']]);
    expect(out.values.amount).toEqual([['Decimal', '1.000001'], ['float', 'nan'], ['float', 'nan'], ['Decimal', '99999999999999999999999999999999.999999']]);
    const api = seen.filter((request) => request.path.startsWith('/api/'));
    const downloads = seen.filter((request) => request.path.startsWith('/parts/'));
    expect(downloads.map((request) => request.path)).toEqual(['/parts/part-1.csv?sig=abc', '/parts/part-2.csv?sig=abc']);
    for (const request of api) expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    for (const request of downloads) expect(request.headers.authorization).toBeUndefined();
    expect(api.map((request) => `${request.method} ${request.path}`)).toEqual(['POST /api/v1/exports', 'GET /api/v1/exports/job-1', 'GET /api/v1/exports/job-1']);
  });

  it('refuses a part whose bytes do not match its sha256 or its size, naming the part', async () => {
    const [file] = serveParts({ 'part-1.csv': PART_1 });
    scriptExport([succeeded([{ ...file, sha256: sha256(PART_2) }])]);
    const wrongHash = await python('try:\n    client.export("SELECT 1", format="csv")\nexcept EnosAmlError as e:\n    print(json.dumps(error_json(e)))');
    expect(wrongHash).toMatchObject({ code: 'checksum_mismatch', status: null });
    expect(wrongHash.message).toContain(`part-1.csv: sha256 ${sha256(PART_1)}, expected ${sha256(PART_2)}`);
    scriptExport([succeeded([{ ...file, bytes: file!.bytes + 1 }])]);
    const wrongSize = await python('try:\n    client.export("SELECT 1", format="csv")\nexcept EnosAmlError as e:\n    print(json.dumps(error_json(e)))');
    expect(wrongSize).toMatchObject({ code: 'checksum_mismatch' });
  });

  it('Parquet: downloads each part byte for byte against its sha256 (reading needs pyarrow, absent in Debian)', async () => {
    const parquet = Buffer.concat([Buffer.from('PAR1'), Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256)), Buffer.from('PAR1')]);
    const [file] = serveParts({ 'part-1.parquet': parquet });
    const data = await python(`import hashlib\ndata = client.download(${JSON.stringify(file)})\nprint(json.dumps({"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}))`);
    expect(data).toEqual({ bytes: parquet.length, sha256: sha256(parquet) });
    scriptExport([succeeded([file], { format: 'parquet' })]);
    const read = await python('try:\n    client.export("SELECT 1")\nexcept ImportError as e:\n    print(json.dumps({"import_error": str(e)}))');
    expect(read.import_error).toMatch(/reading Parquet needs pyarrow/);
    // format="parquet" is what the helper asks for unless told otherwise.
    expect(JSON.parse(seen.find((request) => request.method === 'POST')!.body)).toEqual({ sql: 'SELECT 1', format: 'parquet' });
  });

  it('waits out a 429 for its Retry-After and retries with the same Idempotency-Key; polls with growing intervals', async () => {
    const files = serveParts({ 'part-1.csv': PART_1 });
    let posts = 0;
    routes.set('POST /api/v1/exports', (_req, res) => {
      if (posts++ === 0) json(res, 429, { error: { code: 'queue_full', message: 'The export queue is full; try again shortly' } }, { 'retry-after': '1' });
      else json(res, 202, { id: 'job-1', status: 'queued' });
    });
    let poll = 0;
    routes.set('GET /api/v1/exports/job-1', (_req, res) => json(res, 200, poll++ < 5 ? { id: 'job-1', status: 'running' } : succeeded(files)));
    await python('describe(client.export("SELECT 1", format="csv", ttl_minutes=30))');
    const submits = seen.filter((request) => request.method === 'POST');
    expect(submits).toHaveLength(2);
    expect(submits[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(submits[1]!.headers['idempotency-key']).toBe(submits[0]!.headers['idempotency-key']);
    expect(submits[1]!.at - submits[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(JSON.parse(submits[0]!.body)).toEqual({ sql: 'SELECT 1', format: 'csv', ttlMinutes: 30 });
    // Each wait is at least the previous × 1.5 (0.1 s, 0.15 s, 0.225 s, …), capped at 0.4 s.
    const polls = seen.filter((request) => request.method === 'GET' && request.path.startsWith('/api/')).map((request) => request.at);
    const gaps = polls.slice(1).map((at, i) => at - polls[i]!);
    const floors = gaps.map((_, i) => Math.min(100 * 1.5 ** i, 400));
    gaps.forEach((gap, i) => expect(gap, `poll ${i + 1}`).toBeGreaterThanOrEqual(floors[i]! - 5));
  });

  it('waits out a 503 with Retry-After while polling', async () => {
    const files = serveParts({ 'part-1.csv': PART_1 });
    routes.set('POST /api/v1/exports', (_req, res) => json(res, 202, { id: 'job-1', status: 'queued' }));
    let poll = 0;
    routes.set('GET /api/v1/exports/job-1', (_req, res) => {
      if (poll++ === 0) json(res, 503, { error: { code: 'not_ready', message: 'The job store is not reachable' } }, { 'retry-after': '1' });
      else json(res, 200, succeeded(files));
    });
    const out = await python('describe(client.export("SELECT 1", format="csv"))');
    expect(out.columns).toEqual(['id', 'name', 'amount']);
  });

  it("a failed export raises its own error code; a timeout cancels the export; a redirect is not followed with the token", async () => {
    scriptExport([{ id: 'job-1', status: 'running' }, { id: 'job-1', status: 'failed', error: { code: 'hive_error', message: 'Table not found: enos.x' } }]);
    const failed = await python('try:\n    client.export("SELECT 1", format="csv")\nexcept EnosAmlError as e:\n    print(json.dumps(error_json(e)))');
    expect(failed).toMatchObject({ code: 'hive_error', message: 'Table not found: enos.x', status: null, details: { export: { status: 'failed' } } });

    seen = [];
    scriptExport([{ id: 'job-1', status: 'running' }]);
    routes.set('POST /api/v1/exports/job-1/cancel', (_req, res) => json(res, 202, { id: 'job-1', status: 'running', cancelRequested: true }));
    const slow = await python('try:\n    client.export("SELECT 1", format="csv", timeout=0.5)\nexcept EnosAmlError as e:\n    print(json.dumps(error_json(e)))');
    expect(slow.code).toBe('timeout');
    expect(seen.map((request) => `${request.method} ${request.path}`)).toContain('POST /api/v1/exports/job-1/cancel');

    seen = [];
    routes.set('POST /api/v1/exports', (_req, res) => res.writeHead(302, { location: `${base}/elsewhere` }).end());
    const redirected = await python('try:\n    client.submit("SELECT 1")\nexcept EnosAmlError as e:\n    print(json.dumps(error_json(e)))');
    expect(redirected).toMatchObject({ code: 'http_302', status: 302 });
    expect(seen.map((request) => request.path)).not.toContain('/elsewhere');
  });

  it("preview(): the API's JSON values typed (BIGINT and DECIMAL strings exact, NaN as text, base64, NULL apart from \"\"), and the guard's position", async () => {
    routes.set('POST /api/v1/previews', (_req, res, body) => {
      const { sql, rows } = JSON.parse(body) as { sql: string; rows: number };
      if (sql.startsWith('DROP')) {
        json(res, 400, { error: { code: 'sql_rejected', message: 'DROP statements are not allowed', position: { line: 1, column: 1 } } });
        return;
      }
      json(res, 200, {
        schema: [
          { name: 'i', type: 'int', nullable: true },
          { name: 'b', type: 'bigint', nullable: true },
          { name: 'd', type: 'double', nullable: true },
          { name: 'm', type: 'decimal(10,2)', nullable: true },
          { name: 't', type: 'timestamp', nullable: true },
          { name: 's', type: 'varchar(5)', nullable: true },
          { name: 'x', type: 'binary', nullable: true },
          { name: 'f', type: 'boolean', nullable: true },
        ],
        rows: [
          [1, '9007199254740993', 'NaN', '12.50', '2024-02-29 23:59:59.123', '', 'AP8=', true],
          [null, null, null, null, null, null, null, null],
          [3, '-9223372036854775808', -1e300, '-0.05', '1970-01-01 00:00:00', 'abc', '', false],
        ].slice(0, rows),
        truncated: true,
      });
    });
    const out = await python('df = client.preview("SELECT * FROM t", rows=3)\nframe = frame_json(df)\nframe["truncated"] = df.attrs["truncated"]\nprint(json.dumps(frame))');
    expect(out.dtypes).toEqual({ i: 'Int32', b: 'Int64', d: 'float64', m: 'object', t: 'datetime64[ns]', s: 'string', x: 'object', f: 'boolean' });
    expect(out.values.b).toEqual([['int', '9007199254740993'], null, ['int', '-9223372036854775808']]);
    expect(out.values.d).toEqual([['float', 'nan'], ['float', 'nan'], ['float', '-1e+300']]);
    expect(out.values.m).toEqual([['Decimal', '12.50'], null, ['Decimal', '-0.05']]);
    expect(out.values.t).toEqual([['Timestamp', '2024-02-29T23:59:59.123000'], null, ['Timestamp', '1970-01-01T00:00:00']]);
    expect(out.values.s).toEqual([['str', ''], null, ['str', 'abc']]);
    expect(out.values.x).toEqual([['bytes', '00ff'], null, ['bytes', '']]);
    expect(out.truncated).toBe(true);
    const refused = await python('try:\n    client.preview("DROP TABLE t")\nexcept EnosAmlError as e:\n    print(json.dumps(error_json(e)))');
    expect(refused).toEqual({ code: 'sql_rejected', message: 'DROP statements are not allowed', status: 400, details: { position: { line: 1, column: 1 } } });
  });

  it('is one clean file: it compiles, and pyflakes and pycodestyle (lines up to 100) find nothing', async () => {
    const helper = path.join(HELPER_DIR, 'enos_aml.py');
    // py_compile writes its .pyc under this prefix, not into app/client/__pycache__.
    const cache = mkdtempSync(path.join(tmpdir(), 'pycache-'));
    try {
      for (const args of [['-m', 'py_compile', helper], ['-m', 'pyflakes', helper], ['-m', 'pycodestyle', '--max-line-length=100', helper]]) {
        const run = await runPython(args, { env: { PYTHONPYCACHEPREFIX: cache } });
        expect(`${run.stdout}${run.stderr}`, args.join(' ')).toBe('');
        expect(run.status).toBe(0);
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('never shows the token in its repr, and refuses a base URL that is not http(s)', async () => {
    const out = await python('try:\n    Client("ftp://x", "t")\nexcept ValueError as e:\n    print(json.dumps({"repr": repr(client), "error": str(e)}))');
    expect(out.repr).toBe(`Client('${base}')`);
    expect(out.error).toMatch(/base_url must start with https:\/\//);
  });
});

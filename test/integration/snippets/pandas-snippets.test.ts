/**
 * The pandas snippet of a real export, run by Debian's python3 + python3-pandas against the
 * download URL the connector hands out: the type probe (every Hive type the stand-in has, NULL
 * rows, "" beside NULL, BIGINT beyond 2^53, DECIMAL(38,6), timestamps with every fraction
 * length, unicode) must come back with the right dtype and the exact value in every cell.
 * Multi-part exports do not exist on this branch yet: their snippet is run against the real
 * export cut into two parts, served over HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snippetsFor } from '../../../app/src/snippets/snippets.js';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';
import { DESCRIBE_FRAME, runPython, runPythonScript } from '../../support/debian-python.js';
import { ints, nan, PROBE, PROBE_DTYPES, PROBE_VALUES, type Frame } from '../../support/type-probe-frame.js';

const standIns = useStandIns(100);

async function readWith(snippet: string): Promise<Frame> {
  return JSON.parse(await runPythonScript(`${snippet}\n${DESCRIBE_FRAME}\ndescribe(df)\n`)) as Frame;
}

async function exportOf(stack: ConnectorStack, token: string, sql: string, format: 'csv' | 'csv.gz' | 'parquet' = 'csv'): Promise<any> {
  const submitted = await stack.api(token, 'POST', '/api/v1/exports', { sql, format, ttlMinutes: 60 });
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
  expect(submitted.json.snippets).toBeNull();
  const job = await stack.waitFor(token, submitted.json.id);
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  return job;
}

describe.each(['local', 'blob'] as const)('the pandas snippet of a real export (%s storage)', (storage) => {
  let stack: ConnectorStack;
  let token: string;

  beforeAll(async () => {
    stack = await startConnectorStack({ storage, hive: standIns.hive, enos: standIns.enos });
    token = await stack.signIn('demo');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('reads every column of the type probe with its dtype and exact values: NULL apart from "", BIGINT beyond 2^53, DECIMAL(38,6), timestamps', async () => {
    const job = await exportOf(stack, token, PROBE);
    expect(job.snippets.pandas).toContain(JSON.stringify(job.downloadUrl));
    const frame = await readWith(job.snippets.pandas);
    expect(frame.columns).toEqual(Object.keys(PROBE_DTYPES));
    expect(frame.dtypes).toEqual(PROBE_DTYPES);
    expect(frame.values.id).toEqual(ints('int', ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']));
    for (const [column, values] of Object.entries(PROBE_VALUES)) expect(frame.values[column], column).toEqual(values);
  });
});

describe('the pandas snippet, local storage', () => {
  let stack: ConnectorStack;
  let token: string;

  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'local', hive: standIns.hive, enos: standIns.enos });
    token = await stack.signIn('demo');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('reads a csv.gz export through gzip, and DATE as datetime64 when every date fits pandas', async () => {
    const job = await exportOf(stack, token, 'SELECT id, c_bigint, c_string, c_date, c_timestamp FROM enos.type_probe WHERE id <> 4 ORDER BY id', 'csv.gz');
    expect(job.snippets.pandas).toContain('gzip.decompress(');
    const frame = await readWith(job.snippets.pandas);
    expect(frame.dtypes).toEqual({ id: 'Int32', c_bigint: 'Int64', c_string: 'string', c_date: 'datetime64[ns]', c_timestamp: 'datetime64[ns]' });
    expect(frame.values.c_bigint).toEqual(ints('int', ['9007199254740993', null, '-9223372036854775808', null, '6', '-9007199254740993', '8', '9', null, '11']));
    expect(frame.values.c_string).toEqual(ints('str', ['a', null, '', 'five', null, 'seven', 'eight', 'nine', null, 'eleven']));
    expect(frame.values.c_date).toEqual(
      ints('Timestamp', ['2024-02-29T00:00:00', null, '1970-01-01T00:00:00', '2000-01-01T00:00:00', null, '1900-03-01T00:00:00', '2024-01-08T00:00:00', '2024-01-09T00:00:00', null, '2024-01-11T00:00:00']),
    );
  });

  it('reads a gzip export with no text column straight from the URL (compression="gzip")', async () => {
    const job = await exportOf(stack, token, 'SELECT id, c_bigint, c_double FROM enos.type_probe ORDER BY id', 'csv.gz');
    expect(job.snippets.pandas).toContain('compression="gzip"');
    const frame = await readWith(job.snippets.pandas);
    expect(frame.dtypes).toEqual({ id: 'Int32', c_bigint: 'Int64', c_double: 'float64' });
    expect(frame.values.c_bigint).toEqual(PROBE_VALUES.c_bigint);
  });

  it('reads a Parquet export with read_parquet and nullable dtypes (run here by hand with pandas 2.2 + pyarrow: Debian has no pyarrow)', async () => {
    const job = await exportOf(stack, token, PROBE, 'parquet');
    expect(job.snippets.pandas).toContain(`url = ${JSON.stringify(job.downloadUrl)}\ndf = pd.read_parquet(url, dtype_backend="numpy_nullable")`);
    expect(job.snippets.azureml).toContain(`Input(type="uri_file", path=${JSON.stringify(job.downloadUrl)})`);
    const file = Buffer.from(await (await fetch(job.downloadUrl)).arrayBuffer());
    expect(file.subarray(0, 4).toString()).toBe('PAR1');
  });

  it('keeps column names with quotes, backslashes, apostrophes, dots and unicode exactly', async () => {
    const job = await exportOf(stack, token, 'SELECT c_string AS `we"ird\\\\ name\'s`, c_bigint AS `ü ⚡`, id AS `a.b`, c_string AS `x""y` FROM enos.type_probe ORDER BY id');
    const names = ['we"ird\\\\ name\'s', 'ü ⚡', 'a.b', 'x""y'];
    expect(job.schema.map((column: { name: string }) => column.name)).toEqual(names);
    const frame = await readWith(job.snippets.pandas);
    expect(frame.columns).toEqual(names);
    expect(frame.dtypes).toEqual({ [names[0]!]: 'string', [names[1]!]: 'Int64', [names[2]!]: 'Int32', [names[3]!]: 'string' });
    expect(frame.values[names[0]!]).toEqual(PROBE_VALUES.c_string);
    expect(frame.values[names[3]!]).toEqual(PROBE_VALUES.c_string);
  });

  it('in a one-column result reads NULL and "" both as missing (the file writes both as ""), and BIGINT exactly', async () => {
    const text = await readWith((await exportOf(stack, token, 'SELECT c_string FROM enos.type_probe ORDER BY id')).snippets.pandas);
    expect(text.values.c_string).toEqual(ints('str', ['a', null, null, 'Zürich ⚡ 風力', 'five', null, 'seven', 'eight', 'nine', null, 'eleven']));
    const big = await readWith((await exportOf(stack, token, 'SELECT c_bigint FROM enos.type_probe ORDER BY id')).snippets.pandas);
    expect(big.dtypes).toEqual({ c_bigint: 'Int64' });
    expect(big.values.c_bigint).toEqual(PROBE_VALUES.c_bigint);
  });

  it('what the snippet fixes: a bare pd.read_csv(url) of the same file loses 2^53 + 1 and NULL vs ""', async () => {
    const job = await exportOf(stack, token, PROBE);
    const frame = await readWith(`import pandas as pd\ndf = pd.read_csv(${JSON.stringify(job.downloadUrl)})`);
    expect(frame.dtypes.c_bigint).toBe('float64');
    expect(frame.values.c_bigint![0]).toEqual(['float', '9007199254740992.0']);
    expect(frame.values.c_string!.slice(1, 3)).toEqual([nan, nan]);
  });

  describe('of a multi-part export (the parts cut from a real export, served over HTTP)', () => {
    let server: Server;
    let base: string;
    const parts = new Map<string, Buffer>();

    beforeAll(async () => {
      server = createServer((req, res) => {
        const body = parts.get(req.url ?? '');
        res.writeHead(body ? 200 : 404, { 'content-type': 'text/csv' }).end(body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('concatenates the parts, each a complete CSV with its header, into the frame one part gives', async () => {
      const job = await exportOf(stack, token, PROBE, 'csv.gz');
      const csv = gunzipSync(Buffer.from(await (await fetch(job.downloadUrl)).arrayBuffer())).toString('utf8');
      // Rows end in CRLF; row 3 holds a newline inside quotes, so cut after row 5 by its id.
      const header = csv.slice(0, csv.indexOf('\r\n') + 2);
      const cut = csv.indexOf('\r\n6,');
      parts.set('/part-1.csv', Buffer.from(csv.slice(0, cut + 2)));
      parts.set('/part-2.csv', Buffer.from(header + csv.slice(cut + 2)));
      const files = [{ url: `${base}/part-1.csv` }, { url: `${base}/part-2.csv` }];
      const snippets = snippetsFor({ format: 'csv', schema: job.schema, files, mltableUrl: `${base}/MLTable` })!;
      expect(snippets.azureml).toContain(`Input(type="mltable", path="${base}/MLTable")`);
      const [whole, joined] = await Promise.all([readWith((await exportOf(stack, token, PROBE)).snippets.pandas), readWith(snippets.pandas)]);
      expect(joined).toEqual(whole);
    });
  });

  it('are described in the OpenAPI document as the named ExportSnippets', async () => {
    const { json } = await stack.api(undefined, 'GET', '/openapi.json');
    expect(JSON.stringify(json.components.schemas.Export.properties.snippets)).toContain('"$ref":"#/components/schemas/ExportSnippets"');
    expect(json.components.schemas.ExportSnippets.required).toEqual(['pandas', 'azureml']);
  });

  it('the generated snippets parse as Python for every format and shape', async () => {
    const job = await exportOf(stack, token, PROBE);
    const variants = [
      snippetsFor({ format: 'csv', schema: job.schema, downloadUrl: job.downloadUrl })!,
      snippetsFor({ format: 'csv.gz', schema: job.schema, files: [{ url: job.downloadUrl }, { url: `${job.downloadUrl}&x="'\\` }], mltableUrl: job.downloadUrl })!,
      snippetsFor({ format: 'parquet', schema: job.schema, files: [{ url: job.downloadUrl }, { url: job.downloadUrl }], mltableUrl: job.downloadUrl })!,
      snippetsFor({ format: 'csv', schema: null, downloadUrl: job.downloadUrl })!,
    ];
    for (const code of variants.flatMap((snippets) => [snippets.pandas, snippets.azureml])) {
      const run = await runPython(['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: code });
      expect(run.stderr, code).toBe('');
      expect(run.status).toBe(0);
    }
  });
});

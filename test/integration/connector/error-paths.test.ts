/**
 * Every error path the API promises, over real HTTP against the real connector: each bad input
 * gets a clear 4xx JSON error and changes nothing; each fault (Hive failing or dropping the
 * connection mid-fetch, storage failing mid-upload) leaves the job failed and nothing published.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { BlobServiceClient } from '@azure/storage-blob';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signGrant } from '../../../app/src/storage/signed-download-url.js';
import type { ExportStore, ExportWriter } from '../../../app/src/storage/export-store.js';
import { createBlobExportStore } from '../../../app/src/storage/blob-export-store.js';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const standIns = useStandIns(30_000);

async function blobNames(stack: ConnectorStack): Promise<string[]> {
  const container = BlobServiceClient.fromConnectionString(inject('azurite').connectionString).getContainerClient(stack.container);
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  return names;
}

function expectError(response: { status: number; json: any }, status: number, code: string, message?: RegExp) {
  expect(response.status).toBe(status);
  expect(response.json.error.code).toBe(code);
  expect(typeof response.json.error.message).toBe('string');
  if (message) expect(response.json.error.message).toMatch(message);
  expect(JSON.stringify(response.json)).not.toMatch(/at .+\.(ts|js):\d+/); // no stack traces
}

describe('sign-in and tokens', () => {
  let stack: ConnectorStack;
  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'blob', hive: standIns.hive, enos: standIns.enos, env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3' } });
  });
  afterAll(async () => stack?.stop());

  it('answers a wrong password and an unknown user with the same 401', async () => {
    const wrong = await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'demo', password: 'nope' });
    const unknown = await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'nobody-here', password: 'nope' });
    expectError(wrong, 401, 'invalid_credentials');
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(wrong.json);
  });

  it('refuses malformed sign-in bodies with 400 and names the field', async () => {
    expectError(await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'demo' }), 400, 'validation_failed', /password/);
    expectError(await stack.api(undefined, 'POST', '/api/v1/sessions', '{"username":'), 400, 'bad_request', /JSON/);
  });

  it('rate-limits a client that fails to sign in, with Retry-After', async () => {
    expect((await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'multi', password: 'wrong' })).status).toBe(401);
    expect((await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'multi', password: 'wrong again' })).status).toBe(401);
    // Even the right password waits out the back-off after repeated failures from the same client.
    const limited = await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'multi', password: 'multi-password' });
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses missing, forged, expired and revoked tokens on every route', async () => {
    const key = Buffer.from(stack.env.SESSION_SIGNING_KEY!, 'base64');
    const claims = { name: 'demo', org: 'demo-org' };
    const sign = (signingKey: Uint8Array, exp: number) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('u-demo').setJti('t-1').setIssuer('enos-aml-connector')
        .setAudience('enos-aml-connector/api').setIssuedAt(exp - 3600).setExpirationTime(exp).sign(signingKey);
    const now = Math.floor(Date.now() / 1000);
    const forged = await sign(new Uint8Array(randomBytes(32)), now + 600);
    const expired = await sign(new Uint8Array(key), now - 10);
    // Not demo: the first test's wrong password makes this client wait a second before demo's next try.
    const token = await stack.signIn('other');
    expect((await stack.api(token, 'DELETE', '/api/v1/sessions/current')).status).toBe(204);
    const routes: [string, string][] = [
      ['GET', '/api/v1/exports'],
      ['POST', '/api/v1/exports'],
      ['GET', '/api/v1/catalog'],
      ['GET', '/api/v1/exports/00000000-0000-4000-8000-000000000000'],
      ['POST', '/api/v1/exports/00000000-0000-4000-8000-000000000000/cancel'],
      ['DELETE', '/api/v1/sessions/current'],
    ];
    for (const credential of [undefined, forged, expired, token, 'garbage']) {
      for (const [method, route] of routes) {
        const response = await stack.api(credential, method, route, method === 'POST' ? { sql: 'SELECT 1' } : undefined);
        expectError(response, 401, 'unauthorized');
      }
    }
  });
});

describe('exports: bad requests change nothing', () => {
  let stack: ConnectorStack;
  let demo: string;
  let other: string;
  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'blob', hive: standIns.hive, enos: standIns.enos });
    [demo, other] = await Promise.all([stack.signIn('demo'), stack.signIn('other')]);
  });
  afterAll(async () => stack?.stop());

  it('refuses SQL the guard rejects with a 400 that says why, and creates no job', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['DROP TABLE enos.asset', 400, 'sql_rejected', /not allowed|only/i],
      ['SELECT 1; SELECT 2', 400, 'sql_rejected', /single|statements/i],
      ["INSERT OVERWRITE DIRECTORY '/tmp/x' SELECT * FROM enos.asset", 400, 'sql_rejected', /INSERT|not allowed|only/i],
      ['SELECT * FROM enos.asset /* ; DROP TABLE x */ WHERE 1 = 1; DROP TABLE enos.asset', 400, 'sql_rejected', /statement/i],
      ['SELECT * FROM enos_other.site', 403, 'table_forbidden', /enos_other\.site/],
    ];
    for (const [sql, status, code, message] of cases) {
      expectError(await stack.api(demo, 'POST', '/api/v1/exports', { sql }), status, code, message);
    }
    expect((await stack.api(demo, 'GET', '/api/v1/exports')).json.exports).toHaveLength(0);
  });

  it('validates the body: unknown fields, lifetimes beyond the maximum, formats, sizes', async () => {
    expectError(await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT 1', extra: true }), 400, 'validation_failed', /extra|Unrecognized/i);
    expectError(await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset', ttlMinutes: 10081 }), 400, 'validation_failed', /ttlMinutes/);
    expectError(await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset', format: 'xlsx' }), 400, 'validation_failed', /format/);
    expectError(await stack.api(demo, 'POST', '/api/v1/exports', { sql: `SELECT '${'x'.repeat(70_000)}'` }), 413, 'payload_too_large');
    expect((await stack.api(demo, 'GET', '/api/v1/exports')).json.exports).toHaveLength(0);
  });

  it("hides one user's export from another: 404 on read, cancel, link and delete", async () => {
    const mine = await stack.waitFor(demo, (await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset LIMIT 5' })).json.id);
    expect(mine.status).toBe('succeeded');
    const attempts = [
      ['GET', `/api/v1/exports/${mine.id}`],
      ['POST', `/api/v1/exports/${mine.id}/cancel`],
      ['POST', `/api/v1/exports/${mine.id}/link`],
      ['DELETE', `/api/v1/exports/${mine.id}`],
    ] as const;
    for (const [method, route] of attempts) expectError(await stack.api(other, method, route, method === 'POST' ? {} : undefined), 404, 'not_found');
    expect((await stack.api(other, 'GET', '/api/v1/exports')).json.exports).toHaveLength(0);
    expect((await stack.api(demo, 'GET', `/api/v1/exports/${mine.id}`)).json.status).toBe('succeeded');
  });

  it('treats path tricks and non-UUID ids as not found', async () => {
    for (const id of ['..%2F..%2Fetc%2Fpasswd', 'not-a-uuid', '%00', '00000000-0000-4000-8000-00000000000Z']) {
      expectError(await stack.api(demo, 'GET', `/api/v1/exports/${id}`), 404, 'not_found');
    }
    expect((await stack.api(demo, 'GET', '/api/v1/exports/../../openapi.json')).status).not.toBe(500);
  });

  it('honours Idempotency-Key: a retry returns the same job, another request with the key is refused', async () => {
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset LIMIT 3' }, headers);
    const again = await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset LIMIT 3' }, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.json.id).toBe(first.json.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expectError(await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset LIMIT 4' }, headers), 422, 'conflict');
  });
});

describe('limits, cancellation and faults', () => {
  let stack: ConnectorStack;
  let demo: string;
  let other: string;
  let failingUploads = 0;
  beforeAll(async () => {
    // A blob store whose uploads break after the first bytes while `failingUploads` > 0.
    const azurite = inject('azurite');
    const container = `exports-${randomBytes(4).toString('hex')}`;
    const makeStore = (): ExportStore => {
      const real = createBlobExportStore({ credential: { kind: 'connectionString', connectionString: azurite.connectionString }, container, blockSize: 64 * 1024 });
      return {
        ...real,
        method: real.method,
        checkReady: () => real.checkReady(),
        downloadUrl: (ref, target) => real.downloadUrl(ref, target),
        extendExpiry: (ref, at) => real.extendExpiry(ref, at),
        delete: (ref) => real.delete(ref),
        async begin(target): Promise<ExportWriter> {
          const writer = await real.begin(target);
          if (failingUploads <= 0) return writer;
          failingUploads--;
          let seen = 0;
          const stream = new Writable({
            write(chunk: Buffer, _encoding, callback) {
              seen += chunk.length;
              if (seen > 200_000) return callback(new Error('injected storage failure: connection reset by the storage service'));
              writer.stream.write(chunk, callback);
            },
          });
          return {
            stream,
            get bytesWritten() { return writer.bytesWritten; },
            get partBytesWritten() { return writer.partBytesWritten; },
            nextPart: (closed) => writer.nextPart(closed),
            commit: (info) => writer.commit(info),
            abort: () => writer.abort(),
          };
        },
      };
    };
    stack = await startConnectorStack({
      storage: 'blob',
      hive: standIns.hive,
      enos: standIns.enos,
      container,
      env: { JOBS_MAX_CONCURRENT: '1', JOBS_MAX_QUEUED: '1', JOBS_MAX_PER_USER: '2' },
      overrides: { store: makeStore() },
    });
    [demo, other] = await Promise.all([stack.signIn('demo'), stack.signIn('other')]);
  });
  afterAll(async () => stack?.stop());

  it('cancels a running export on Hive too, and publishes nothing', async () => {
    const fault = standIns.hive.faults.add({ match: 'cancel_probe', kind: 'delay', ms: 30_000, during: 'execute' });
    try {
      const { json } = await stack.api(demo, 'POST', '/api/v1/exports', { sql: "SELECT *, 'cancel_probe' AS tag FROM enos.asset" });
      await stack.waitFor(demo, json.id, (job) => job.status === 'running');
      // `running` is recorded when the job is claimed, a moment before the statement reaches Hive.
      while (!standIns.hive.operations().some((op) => op.statement.includes('cancel_probe'))) await new Promise((resolve) => setTimeout(resolve, 20));
      const cancelled = await stack.api(demo, 'POST', `/api/v1/exports/${json.id}/cancel`);
      expect(cancelled.status).toBe(202);
      const final = await stack.waitFor(demo, json.id);
      expect(final.status).toBe('cancelled');
      expect(final.downloadUrl).toBeNull();
      // A fetch task is FINISHED at once and scans inside FetchResults, where CancelOperation
      // cannot reach it (Hive ignores a cancel of a FINISHED operation): closing it must.
      await expect.poll(() => standIns.hive.operations().find((op) => op.statement.includes('cancel_probe'))?.state, { timeout: 5_000 }).toMatch(/CANCELED|CLOSED/);
      expectError(await stack.api(demo, 'POST', `/api/v1/exports/${json.id}/cancel`), 409, 'conflict', /cancelled/);
      expect((await blobNames(stack)).filter((name) => name.includes(json.id))).toEqual([]);
    } finally {
      fault.remove();
    }
  });

  it('answers 429 with Retry-After when the user or the instance is at its limit', async () => {
    const fault = standIns.hive.faults.add({ match: 'limit_probe', kind: 'delay', ms: 20_000, during: 'execute' });
    try {
      const sql = (n: number) => `SELECT *, 'limit_probe' AS tag${n} FROM enos.asset`;
      const a = await stack.api(demo, 'POST', '/api/v1/exports', { sql: sql(1) });
      const b = await stack.api(demo, 'POST', '/api/v1/exports', { sql: sql(2) });
      expect([a.status, b.status]).toEqual([202, 202]);
      const perUser = await stack.api(demo, 'POST', '/api/v1/exports', { sql: sql(3) });
      expectError(perUser, 429, 'rate_limited');
      expect(Number(perUser.headers.get('retry-after'))).toBeGreaterThan(0);
      // One running + one queued fills this instance (JOBS_MAX_CONCURRENT=1, JOBS_MAX_QUEUED=1).
      const full = await stack.api(other, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos_other.site' });
      expectError(full, 429, 'queue_full');
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
      for (const job of [a.json, b.json]) await stack.api(demo, 'POST', `/api/v1/exports/${job.id}/cancel`);
      for (const job of [a.json, b.json]) expect((await stack.waitFor(demo, job.id)).status).toBe('cancelled');
    } finally {
      fault.remove();
    }
  });

  it('marks the job failed with Hive\'s reason when Hive fails mid-fetch, and publishes nothing', async () => {
    const fault = standIns.hive.faults.add({ match: 'midfetch_fail', kind: 'fail', afterFetches: 2, message: 'Error while processing statement: FAILED: Execution Error, return code 2 (injected)' });
    try {
      const { json } = await stack.api(demo, 'POST', '/api/v1/exports', { sql: "SELECT *, 'midfetch_fail' AS tag FROM enos.measurement" });
      const final = await stack.waitFor(demo, json.id);
      expect(final.status).toBe('failed');
      expect(final.error.code).toBe('hive_error');
      expect(final.error.message).toMatch(/Execution Error/);
      expect((await blobNames(stack)).filter((name) => name.includes(json.id))).toEqual([]);
    } finally {
      fault.remove();
    }
  });

  it('marks the job failed when the Hive connection drops mid-fetch, and publishes nothing', async () => {
    const fault = standIns.hive.faults.add({ match: 'midfetch_drop', kind: 'drop-during-fetch', afterFetches: 2 });
    try {
      const { json } = await stack.api(demo, 'POST', '/api/v1/exports', { sql: "SELECT *, 'midfetch_drop' AS tag FROM enos.measurement" });
      const final = await stack.waitFor(demo, json.id);
      expect(final.status).toBe('failed');
      expect(final.error.code).toBe('hive_unavailable');
      expect((await blobNames(stack)).filter((name) => name.includes(json.id))).toEqual([]);
    } finally {
      fault.remove();
    }
  });

  it('marks the job failed when storage fails mid-upload, and publishes nothing', async () => {
    failingUploads = 1;
    const { json } = await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.measurement' });
    const final = await stack.waitFor(demo, json.id);
    expect(final.status).toBe('failed');
    expect(final.error.message).not.toMatch(/connection reset/); // internal detail stays in the log
    expect((await blobNames(stack)).filter((name) => name.includes(json.id))).toEqual([]);
  });
});

describe('local download URLs', () => {
  let stack: ConnectorStack;
  let demo: string;
  let job: any;
  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'local', hive: standIns.hive, enos: standIns.enos });
    demo = await stack.signIn('demo');
    job = await stack.waitFor(demo, (await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset ORDER BY asset_id' })).json.id);
  });
  afterAll(async () => stack?.stop());

  it('serves the file at the signed URL and refuses forged, tampered and expired ones', async () => {
    const url = new URL(job.downloadUrl);
    expect((await fetch(url)).status).toBe(200);

    const forged = new URL(url);
    forged.searchParams.set('sig', Buffer.alloc(32, 1).toString('base64url'));
    expect((await fetch(forged)).status).toBe(403);
    const tampered = new URL(url);
    tampered.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600));
    expect((await fetch(tampered)).status).toBe(403);
    const renamed = new URL(url.href.replace(/[^/]+\.csv/, 'other.csv'));
    expect((await fetch(renamed)).status).toBe(403);

    const [, , id, name] = url.pathname.split('/');
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = new URL(url);
    expired.searchParams.set('exp', String(past));
    expired.searchParams.set('sig', signGrant(Buffer.from(stack.env.URL_SIGNING_KEY!, 'base64'), { id: id!, name: name!, exp: past }));
    const gone = await fetch(expired);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as any).error.code).toBe('gone');
  });

  it('never serves a path outside the export folder', async () => {
    for (const trick of ['/d/..%2F..%2Fetc/passwd', '/d/%2e%2e/jobs.sqlite', `/d/${job.id}/..%2F..%2Fjobs.sqlite`, '/d/x%00/y.csv']) {
      const response = await fetch(`${stack.url}${trick}?exp=9999999999&sig=${'A'.repeat(43)}`);
      expect([400, 403, 404]).toContain(response.status);
    }
  });

  it('deletes the file with the export, so the URL dies', async () => {
    const dir = path.join(stack.dataDir, 'exports');
    const fileId = new URL(job.downloadUrl).pathname.split('/')[2]!;
    expect(readdirSync(dir).filter((file) => file.startsWith(fileId)).sort()).toEqual([`${fileId}.data`, `${fileId}.json`]);
    expect((await stack.api(demo, 'DELETE', `/api/v1/exports/${job.id}`)).status).toBe(204);
    expect((await fetch(job.downloadUrl)).status).toBe(404);
    expect(readdirSync(dir).filter((file) => file.startsWith(fileId))).toEqual([]);
    expect(existsSync(path.join(dir, `${fileId}.data`))).toBe(false);
  });
});

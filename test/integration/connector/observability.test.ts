/**
 * What the connector says about itself: JSON logs with a request id and without secrets (the
 * password, session tokens, URL signatures), security headers on every answer, and an OpenAPI
 * 3.1 document plus a docs page that describe the routes that really exist.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../app/src/logger.js';
import { startConnectorStack, type ConnectorStack } from '../../support/connector-stack.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  },
});

let stack: ConnectorStack;
beforeAll(async () => {
  stack = await startConnectorStack({ storage: 'local', seedRows: 2_000, env: { LOG_LEVEL: 'debug' }, overrides: { logger: createLogger('debug', sink) } });
});
afterAll(async () => stack?.stop());

describe('logs', () => {
  it('are JSON with a request id, and never carry the password, the token or a URL signature', async () => {
    const password = 'demo-password';
    const token = await stack.signIn('demo', password);
    await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'demo', password: 'a-wrong-password-123' });
    const job = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset LIMIT 3' }, { 'x-request-id': 'trace-me-42' })).json.id);
    const download = await fetch(job.downloadUrl);
    expect(download.status).toBe(200);
    const signature = new URL(job.downloadUrl).searchParams.get('sig')!;

    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(3);
    expect(records.some((record) => record.reqId === 'trace-me-42' && record.msg === 'request')).toBe(true);
    expect(records.some((record) => typeof record.url === 'string' && record.url.startsWith('/d/') && record.url.includes('sig=[REDACTED]'))).toBe(true);
    const all = lines.join('\n');
    for (const secret of [password, 'a-wrong-password-123', token, token.split('.')[2]!, signature, stack.env.HIVE_PASSWORD!, stack.env.SESSION_SIGNING_KEY!]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('HTTP surface', () => {
  it('sends security headers and a strict Content-Security-Policy', async () => {
    const response = await fetch(`${stack.url}/healthz`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const response = await stack.api(undefined, 'GET', '/api/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.json).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  it('reports readiness of every dependency', async () => {
    const ready = await stack.api(undefined, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ready', checks: { hive: 'ok', storage: 'ok', jobStore: 'ok', identity: 'ok' } });
  });

  it('describes the API as OpenAPI 3.1 generated from the request schemas, with a docs page', async () => {
    const { status, json } = await stack.api(undefined, 'GET', '/openapi.json');
    expect(status).toBe(200);
    expect(json.openapi).toBe('3.1.0');
    expect(Object.keys(json.paths)).toEqual(
      expect.arrayContaining(['/api/v1/sessions', '/api/v1/sessions/current', '/api/v1/exports', '/api/v1/exports/{id}', '/api/v1/exports/{id}/cancel', '/api/v1/exports/{id}/link', '/healthz', '/readyz']),
    );
    // Named component schemas, so generated clients get named types.
    const ref = json.paths['/api/v1/exports'].post.requestBody.content['application/json'].schema;
    expect(ref).toEqual({ $ref: '#/components/schemas/CreateExportRequest' });
    const create = json.components.schemas.CreateExportRequest;
    expect(create.required).toEqual(['sql']);
    expect(create.additionalProperties).toBe(false);
    expect(create.properties.ttlMinutes.maximum).toBe(10080);
    expect(create.properties.format.enum).toEqual(['csv', 'csv.gz', 'parquet']);
    expect(create.properties.sql.maxLength).toBe(50_000);
    expect(Object.keys(json.components.schemas)).toEqual(
      expect.arrayContaining(['Export', 'ExportList', 'Schedule', 'ScheduleList', 'CreateScheduleRequest', 'TokenCreated', 'AuditEvent', 'AuditPage', 'Me', 'Error']),
    );
    expect(json.components.schemas.ExportList.properties.exports.items).toEqual({ $ref: '#/components/schemas/Export' });
    expect(json.components.schemas.TokenCreated.required).toContain('secret');
    // Every file of an export, one or several parts, and the MLTable of several.
    const exportSchema = json.components.schemas.Export;
    expect(exportSchema.properties.files.items).toEqual({ $ref: '#/components/schemas/ExportFile' });
    expect(exportSchema.required).toEqual(expect.arrayContaining(['files', 'downloadUrl', 'mltableUrl']));
    expect(json.components.schemas.ExportFile.required).toEqual(['url', 'name', 'rows', 'bytes', 'sha256']);
    // Every reference resolves.
    const refs = [...JSON.stringify(json).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map((match) => match[1]!);
    for (const name of refs) expect(json.components.schemas, name).toHaveProperty(name);
    expect(Object.keys(json.paths)).toEqual(expect.arrayContaining(['/api/v1/tokens', '/api/v1/tokens/{id}', '/api/v1/schedules', '/api/v1/schedules/{id}/link', '/api/v1/audit', '/l/{linkId}', '/api/v1/me']));
    expect(json.paths['/api/v1/audit'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['scope', 'from', 'to', 'type', 'exportId', 'user', 'limit', 'cursor', 'format']);
    // Previews and the column browser, with the same named schemas for the result's columns.
    expect(json.paths['/api/v1/previews'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreatePreviewRequest' });
    expect(json.components.schemas.CreatePreviewRequest).toMatchObject({ required: ['sql'], additionalProperties: false, properties: { rows: { minimum: 1, maximum: 100 } } });
    expect(Object.keys(json.paths['/api/v1/previews'].post.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '422', '429', '504']));
    expect(json.components.schemas.Preview.properties.schema.items).toEqual({ $ref: '#/components/schemas/ResultColumn' });
    expect(json.components.schemas.Export.properties.schema.anyOf).toContainEqual({ type: 'array', items: { $ref: '#/components/schemas/ResultColumn' } });
    expect(json.paths['/api/v1/catalog/tables/{database}/{table}/columns'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/TableColumns' });

    const docs = await fetch(`${stack.url}/docs`);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    const html = await docs.text();
    expect(html).toContain('/api/v1/exports/{id}/link');
    expect(html).not.toMatch(/<script|style=/);
  });
});

describe('readiness', () => {
  it('says which dependency is failing when Hive goes away, and nothing more', async () => {
    const own = await startConnectorStack({ storage: 'blob', seedRows: 1_000 });
    try {
      const listener = own.hive.listeners[0]!;
      await own.hive.close();
      const down = await own.api(undefined, 'GET', '/readyz');
      expect(down.status).toBe(503);
      expect(down.json).toEqual({ status: 'not_ready', checks: { hive: 'failing', storage: 'ok', jobStore: 'ok', identity: 'ok' } });
      expect(JSON.stringify(down.json)).not.toContain(String(listener.port));
      // Healthz is about the process only.
      expect((await own.api(undefined, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await own.connector.stop();
      await own.enos.close();
    }
  });
});

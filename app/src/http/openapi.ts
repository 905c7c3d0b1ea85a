/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routers validate with, and a
 * small readable docs page rendered from that document (plain HTML, no scripts, so it runs
 * under the same strict Content-Security-Policy as everything else).
 */
import { Router } from 'express';
import { z } from 'zod';
import {
  catalogView,
  createExportRequest,
  errorBody,
  exportList,
  exportView,
  loginRequest,
  newLinkRequest,
  sessionCreated,
} from './api-schemas.js';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: schemaOf(schema) } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { $ref: `#/components/responses/Error` }]));
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const secured = [{ bearer: [] }];

export function openApiDocument(options: { maxTtlMinutes: number; version: string }): Record<string, unknown> {
  const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schemaOf(schema, 'input') } } });
  return {
    openapi: '3.1.0',
    info: {
      title: 'enos-aml-connector',
      version: options.version,
      description:
        'Governed, time-limited exports of EnOS Hive data for Azure Machine Learning. Sign in with an EnOS account, ' +
        'submit one read-only SELECT, and receive a download URL that needs no further credentials.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      responses: { Error: json(errorBody, 'Error: `{error: {code, message}}`') },
    },
    paths: {
      '/api/v1/sessions': {
        post: {
          summary: 'Sign in with an EnOS account',
          requestBody: body(loginRequest),
          responses: { '201': json(sessionCreated, 'Signed in'), ...errors(400, 401, 429, 503) },
        },
      },
      '/api/v1/sessions/current': {
        delete: { summary: 'Sign out; the token stops working at once', security: secured, responses: { '204': { description: 'Signed out' }, ...errors(401) } },
      },
      '/api/v1/catalog': {
        get: { summary: 'Databases and tables your organization may read', security: secured, responses: { '200': json(catalogView, 'Catalog'), ...errors(401, 503) } },
      },
      '/api/v1/exports': {
        post: {
          summary: 'Start an export',
          security: secured,
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } }],
          requestBody: body(createExportRequest(options.maxTtlMinutes)),
          responses: { '202': json(exportView, 'Accepted; poll the job'), ...errors(400, 401, 403, 422, 429) },
        },
        get: { summary: 'Your exports, newest first', security: secured, responses: { '200': json(exportList, 'Exports'), ...errors(401) } },
      },
      '/api/v1/exports/{id}': {
        get: { summary: 'One export', security: secured, parameters: [idParam], responses: { '200': json(exportView, 'Export'), ...errors(401, 404) } },
        delete: { summary: 'Delete the export and its file', security: secured, parameters: [idParam], responses: { '204': { description: 'Deleted' }, ...errors(401, 404) } },
      },
      '/api/v1/exports/{id}/cancel': {
        post: { summary: 'Cancel a queued or running export', security: secured, parameters: [idParam], responses: { '202': json(exportView, 'Cancelling'), ...errors(401, 404, 409) } },
      },
      '/api/v1/exports/{id}/link': {
        post: {
          summary: 'A new download URL with a new expiry (within the maximum lifetime)',
          security: secured,
          parameters: [idParam],
          requestBody: { required: false, content: { 'application/json': { schema: schemaOf(newLinkRequest(options.maxTtlMinutes), 'input') } } },
          responses: { '200': json(exportView, 'New link'), ...errors(400, 401, 404, 409, 410) },
        },
      },
      '/d/{id}/{name}': {
        get: {
          summary: 'Download (local storage method); the URL carries its own signed, expiring grant',
          parameters: [idParam, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The CSV' }, '206': { description: 'A byte range' }, ...errors(403, 404, 410, 416) },
        },
      },
      '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Hive, storage, job store and identity service are reachable', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
    },
  };
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function docsPage(document: Record<string, unknown>): string {
  const paths = document.paths as Record<string, Record<string, { summary?: string; responses?: Record<string, unknown> }>>;
  const rows = Object.entries(paths)
    .flatMap(([path, operations]) =>
      Object.entries(operations).map(
        ([method, operation]) =>
          `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(operation.summary ?? '')}</td><td>${Object.keys(operation.responses ?? {}).join(', ')}</td></tr>`,
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>enos-aml-connector API</title></head>
<body><main>
<h1>enos-aml-connector API v1</h1>
<p>Machine-readable description: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with
<code>POST /api/v1/sessions</code> and send <code>Authorization: Bearer &lt;token&gt;</code>. Every error is
<code>{"error": {"code", "message"}}</code>.</p>
<table><thead><tr><th scope="col">Method</th><th scope="col">Path</th><th scope="col">What it does</th><th scope="col">Statuses</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</main></body></html>`;
}

export function openApiRouter(options: { maxTtlMinutes: number; version: string }): Router {
  const document = openApiDocument(options);
  const page = docsPage(document);
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(page);
  });
  return router;
}

/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routers validate with, and a
 * small readable docs page rendered from that document (plain HTML, no scripts, so it runs
 * under the same strict Content-Security-Policy as everything else).
 */
import { Router } from 'express';
import { z } from 'zod';
import {
  auditEventView,
  auditPage,
  auditQueryParams,
  catalogColumnsView,
  catalogView,
  createExportRequest,
  createPreviewRequest,
  createScheduleRequest,
  createTokenRequest,
  errorBody,
  exportFile,
  exportList,
  exportSnippets,
  exportView,
  loginRequest,
  meView,
  newLinkRequest,
  newStableLinkRequest,
  previewView,
  resultColumnView,
  scheduleList,
  scheduleRunView,
  scheduleView,
  sessionCreated,
  tokenCreated,
  tokenList,
  tokenView,
  userView,
} from './api-schemas.js';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { $ref: `#/components/responses/Error` }]));
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const secured = [{ bearer: [] }];

export interface OpenApiOptions {
  maxTtlMinutes: number;
  version: string;
  /** Limits the request schemas carry (maximum token lifetime, results kept, stable link lifetime). */
  limits: { tokenMaxDays: number; maxKeep: number; linkMaxDays: number };
}

/**
 * Named component schemas, so generated clients get types called `Export`, `Schedule`, `AuditEvent`
 * rather than anonymous shapes. Requests are registered as zod *input* (what a client may send,
 * defaults optional), answers as *output*; references between them are resolved by zod itself.
 */
class Components {
  private readonly inputs = z.registry<{ id: string }>();
  private readonly outputs = z.registry<{ id: string }>();

  private static ref(id: string) {
    return { $ref: `#/components/schemas/${id}` };
  }

  request(id: string, schema: z.ZodType, required = true) {
    this.inputs.add(schema, { id });
    return { required, content: { 'application/json': { schema: Components.ref(id) } } };
  }

  /** A schema that appears inside others (an item of a list), named so that it is referenced, not repeated. */
  name(id: string, schema: z.ZodType): void {
    this.outputs.add(schema, { id });
  }

  answer(id: string, schema: z.ZodType, description: string) {
    this.outputs.add(schema, { id });
    return { description, content: { 'application/json': { schema: Components.ref(id) } } };
  }

  schemas(): Record<string, JsonSchema> {
    const uri = (id: string) => `#/components/schemas/${id}`;
    const convert = (registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output') => {
      const { schemas } = z.toJSONSchema(registry, { io, uri, unrepresentable: 'any' }) as { schemas: Record<string, JsonSchema> };
      return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]));
    };
    return { ...convert(this.inputs, 'input'), ...convert(this.outputs, 'output') };
  }
}

/** Query parameters, one per field of a zod object, with the field's schema and description. */
function queryParameters(schema: z.ZodObject): Record<string, unknown>[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const described = schemaOf(field as z.ZodType, 'input');
    return { name, in: 'query', required: false, schema: described, ...(typeof described.description === 'string' ? { description: described.description } : {}) };
  });
}

export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const c = new Components();
  c.name('AuditEvent', auditEventView);
  c.name('ExportFile', exportFile);
  c.name('Token', tokenView);
  c.name('ScheduleRun', scheduleRunView);
  c.name('User', userView);
  c.name('ResultColumn', resultColumnView);
  c.name('ExportSnippets', exportSnippets);
  const errorResponse = c.answer('Error', errorBody, 'Error: `{error: {code, message}}`');
  const exportAnswer = (description: string) => c.answer('Export', exportView, description);
  const scheduleAnswer = (description: string) => c.answer('Schedule', scheduleView, description);
  const paths = {
    '/api/v1/sessions': {
      post: {
        summary: 'Sign in with an EnOS account',
        requestBody: c.request('LoginRequest', loginRequest),
        responses: { '201': c.answer('SessionCreated', sessionCreated, 'Signed in'), ...errors(400, 401, 403, 415, 429, 503) },
      },
    },
    '/api/v1/sessions/current': {
      delete: { summary: 'Sign out; the token stops working at once', security: secured, responses: { '204': { description: 'Signed out' }, ...errors(400, 401) } },
    },
    '/api/v1/me': {
      get: { summary: 'Who you are, how you authenticated, and your roles', security: secured, responses: { '200': c.answer('Me', meView, 'You'), ...errors(401) } },
    },
    '/api/v1/catalog': {
      get: { summary: 'Databases and tables your organization may read', security: secured, responses: { '200': c.answer('Catalog', catalogView, 'Catalog'), ...errors(401, 503) } },
    },
    '/api/v1/catalog/tables/{database}/{table}/columns': {
      get: {
        summary: "A table's columns and Hive types (partition columns last); a table your organization may not read is 404 like one that does not exist",
        security: secured,
        parameters: [
          { name: 'database', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_]+$' } },
          { name: 'table', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_]+$' } },
        ],
        responses: { '200': c.answer('TableColumns', catalogColumnsView, 'Columns'), ...errors(401, 403, 404, 503) },
      },
    },
    '/api/v1/previews': {
      post: {
        summary:
          'The first rows of a query, answered at once: same guard and authorization as exports, no job and no file. ' +
          "400 sql_rejected and 422 hive_error carry error.position {line, column} where known; 504 preview_timeout past the deadline",
        security: secured,
        requestBody: c.request('CreatePreviewRequest', createPreviewRequest),
        responses: { '200': c.answer('Preview', previewView, 'The schema and the first rows'), ...errors(400, 401, 403, 409, 415, 422, 429, 503, 504) },
      },
    },
    '/api/v1/exports': {
      post: {
        summary: 'Start an export',
        security: secured,
        parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } }],
        requestBody: c.request('CreateExportRequest', createExportRequest(options.maxTtlMinutes)),
        responses: { '202': exportAnswer('Accepted; poll the job'), ...errors(400, 401, 403, 415, 422, 429) },
      },
      get: { summary: 'Your exports, newest first', security: secured, responses: { '200': c.answer('ExportList', exportList, 'Exports'), ...errors(401) } },
    },
    '/api/v1/exports/{id}': {
      get: { summary: 'One export', security: secured, parameters: [idParam], responses: { '200': exportAnswer('Export'), ...errors(401, 404) } },
      delete: { summary: 'Delete the export and its file (its audit events stay)', security: secured, parameters: [idParam], responses: { '204': { description: 'Deleted' }, ...errors(401, 404) } },
    },
    '/api/v1/exports/{id}/cancel': {
      post: { summary: 'Cancel a queued or running export', security: secured, parameters: [idParam], responses: { '202': exportAnswer('Cancelling'), ...errors(401, 404, 409) } },
    },
    '/api/v1/exports/{id}/link': {
      post: {
        summary: 'A new download URL with a new expiry (within the maximum lifetime)',
        security: secured,
        parameters: [idParam],
        requestBody: c.request('NewLinkRequest', newLinkRequest(options.maxTtlMinutes), false),
        responses: { '200': exportAnswer('New link'), ...errors(400, 401, 404, 409, 410, 415) },
      },
    },
    '/api/v1/tokens': {
      post: {
        summary: 'Create a personal access token for automation; its secret is shown in this answer only',
        security: secured,
        requestBody: c.request('CreateTokenRequest', createTokenRequest(options.limits.tokenMaxDays)),
        responses: { '201': c.answer('TokenCreated', tokenCreated, 'Created; keep the secret now'), ...errors(400, 401, 403, 409, 415) },
      },
      get: { summary: 'Your access tokens (never their secrets)', security: secured, responses: { '200': c.answer('TokenList', tokenList, 'Tokens'), ...errors(401) } },
    },
    '/api/v1/tokens/{id}': {
      delete: { summary: 'Revoke an access token; it stops working at once', security: secured, parameters: [idParam], responses: { '204': { description: 'Revoked' }, ...errors(401, 404) } },
    },
    '/api/v1/schedules': {
      post: {
        summary: 'Create a refreshing export: a schedule and one stable URL to its latest good result',
        security: secured,
        requestBody: c.request('CreateScheduleRequest', createScheduleRequest({ maxKeep: options.limits.maxKeep, linkMaxDays: options.limits.linkMaxDays })),
        responses: { '201': scheduleAnswer('Created; its first run starts now'), ...errors(400, 401, 403, 409, 415) },
      },
      get: { summary: 'Your refreshing exports', security: secured, responses: { '200': c.answer('ScheduleList', scheduleList, 'Refreshing exports'), ...errors(401) } },
    },
    '/api/v1/schedules/{id}': {
      get: { summary: 'One refreshing export, with its runs and the one its link serves', security: secured, parameters: [idParam], responses: { '200': scheduleAnswer('Refreshing export'), ...errors(401, 404) } },
      delete: { summary: 'Delete it, its link and its results (its audit events stay)', security: secured, parameters: [idParam], responses: { '204': { description: 'Deleted' }, ...errors(401, 404) } },
    },
    '/api/v1/schedules/{id}/pause': {
      post: { summary: 'Stop running it (the link keeps serving the last result)', security: secured, parameters: [idParam], responses: { '200': scheduleAnswer('Paused'), ...errors(401, 404, 409) } },
    },
    '/api/v1/schedules/{id}/resume': {
      post: { summary: 'Run it again from its next slot', security: secured, parameters: [idParam], responses: { '200': scheduleAnswer('Resumed'), ...errors(401, 403, 404, 409) } },
    },
    '/api/v1/schedules/{id}/link': {
      post: {
        summary: 'A new stable URL with a new expiry; the old one stops working',
        security: secured,
        parameters: [idParam],
        requestBody: c.request('NewStableLinkRequest', newStableLinkRequest(options.limits.linkMaxDays), false),
        responses: { '200': scheduleAnswer('New link'), ...errors(400, 401, 404, 409, 415) },
      },
      delete: { summary: 'Revoke the stable URL', security: secured, parameters: [idParam], responses: { '200': scheduleAnswer('Revoked'), ...errors(401, 404, 409) } },
    },
    '/api/v1/audit': {
      get: {
        summary: "Audit events: your own, or your organization's for its auditors; JSON pages or one CSV",
        security: secured,
        parameters: queryParameters(auditQueryParams),
        responses: {
          '200': {
            description: 'Events, newest first',
            content: { 'application/json': { schema: c.answer('AuditPage', auditPage, '').content['application/json'].schema }, 'text/csv': { schema: { type: 'string' } } },
          },
          ...errors(400, 401, 403),
        },
      },
    },
    '/l/{linkId}': {
      get: {
        summary:
          "A refreshing export's stable URL: 302 to a short-lived download URL of its latest good result (of its MLTable when that result has several parts); needs no credentials",
        parameters: [{ name: 'linkId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } }],
        responses: { '302': { description: 'Redirect to the data' }, ...errors(404, 410, 503) },
      },
    },
    '/d/{id}/{name}': {
      get: {
        summary: 'Download of a file or an MLTable (local storage method); the URL carries its own signed, expiring grant',
        parameters: [idParam, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The file (CSV, csv.gz, Parquet) or the MLTable (YAML)' }, '206': { description: 'A byte range' }, ...errors(403, 404, 410, 416) },
      },
    },
    '/healthz': { get: { summary: 'The process is up', responses: { '200': { description: 'ok' } } } },
    '/readyz': { get: { summary: 'Hive, storage, job store and identity service are reachable', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'enos-aml-connector',
      version: options.version,
      description:
        'Governed, time-limited exports of EnOS Hive data for Azure Machine Learning. Sign in with an EnOS account (or use a ' +
        'personal access token), submit one read-only SELECT, and receive a download URL that needs no further credentials; ' +
        'or make it a refreshing export with one stable URL.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A session token from POST /api/v1/sessions, or a personal access token (enosaml_pat_…)' } },
      responses: { Error: errorResponse },
      schemas: c.schemas(),
    },
    paths,
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

export function openApiRouter(options: OpenApiOptions): Router {
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

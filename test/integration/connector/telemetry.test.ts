/**
 * Telemetry of the connector process (`app/src/main.ts`, as deployed), against a loopback
 * stand-in of Application Insights' ingestion endpoint and of the managed identity endpoint:
 * - with a connection string, @azure/monitor-opentelemetry exports with an Entra ID token: one
 *   trace per export from the HTTP request through the guard, the run, Hive and storage, all
 *   carrying the export id; the metrics (exports by outcome, rows, bytes, rows/s, Hive latency,
 *   guard refusals, queue depth); and the log lines, correlated with their traces;
 * - without one, nothing is sent and the distro is never even imported.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseReadyLine, startChildService, tsxArgs, type ChildService } from '../../../scripts/lib/child-service.js';
import { startAzureMonitorStandIn, type AzureMonitorStandIn, type Envelope } from '../../support/azure-monitor-stand-in.js';
import { freePort, HIVE_USER, useStandIns } from '../../support/connector-stack.js';

const MAIN = fileURLToPath(new URL('../../../app/src/main.ts', import.meta.url));
const RECORD_IMPORTS = fileURLToPath(new URL('../../support/record-imports.mjs', import.meta.url));
const standIns = useStandIns(2_000);

let monitor: AzureMonitorStandIn;
const children: ChildService<{ url: string }>[] = [];
beforeAll(async () => {
  monitor = await startAzureMonitorStandIn();
});
afterAll(async () => {
  await Promise.all(children.map((child) => child.stop()));
  await monitor?.close();
});

async function startConnector(telemetry: boolean): Promise<{ child: ChildService<{ url: string }>; importsFile: string }> {
  const azurite = inject('azurite');
  const container = `exports-${randomBytes(4).toString('hex')}`;
  await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container).create();
  const dir = mkdtempSync(path.join(tmpdir(), 'telemetry-'));
  const importsFile = path.join(dir, 'imports.txt');
  writeFileSync(importsFile, '');
  const listener = standIns.hive.listeners[0]!;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    INSTANCE_ID: `telemetry-${telemetry}`,
    HIVE_HOST: listener.host,
    HIVE_PORT: String(listener.port),
    HIVE_USERNAME: HIVE_USER.name,
    HIVE_PASSWORD: HIVE_USER.password,
    HIVE_POLL_INTERVAL_MS: '50',
    ENOS_BASE_URL: standIns.enos.url,
    ENOS_APP_KEY: standIns.enos.apps[0]!.appKey,
    ENOS_APP_SECRET: standIns.enos.apps[0]!.appSecret,
    SESSION_SIGNING_KEY: randomBytes(32).toString('base64'),
    ORG_ACCESS: JSON.stringify({ 'demo-org': { databases: ['enos'] } }),
    BLOB_CONNECTION_STRING: azurite.connectionString,
    BLOB_CONTAINER: container,
    SQLITE_FILE: path.join(dir, 'jobs.sqlite'),
    RECORD_IMPORTS_FILE: importsFile,
    NODE_EXTRA_CA_CERTS: monitor.caFile,
    ...monitor.identityEnv,
    ...(telemetry ? { APPLICATIONINSIGHTS_CONNECTION_STRING: monitor.connectionString } : {}),
  };
  const child = await startChildService({
    name: 'connector',
    command: process.execPath,
    args: ['--import', RECORD_IMPORTS, ...tsxArgs(MAIN)],
    env,
    readyWhen: (line) => parseReadyLine<{ url: string }>(line),
    timeoutMs: 90_000,
  });
  children.push(child);
  return { child, importsFile };
}

async function call(url: string, method: string, route: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** Signs in, runs one export to the end and has one query refused; returns the export id. */
async function exercise(url: string): Promise<string> {
  const { json: session } = await call(url, 'POST', '/api/v1/sessions', undefined, { username: 'demo', password: 'demo-password' });
  const { json: job } = await call(url, 'POST', '/api/v1/exports', session.token, { sql: 'SELECT asset_id, name FROM enos.asset LIMIT 7' });
  for (let i = 0; ; i++) {
    const { json } = await call(url, 'GET', `/api/v1/exports/${job.id}`, session.token);
    if (json.status === 'succeeded') break;
    if (i > 300) throw new Error(`export never finished: ${JSON.stringify(json)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect((await call(url, 'POST', '/api/v1/exports', session.token, { sql: 'DROP TABLE enos.asset' })).status).toBe(400);
  return job.id as string;
}

const of = (type: string) => (envelope: Envelope) => envelope.data.baseType === type;
const named = (name: string) => (envelope: Envelope) => envelope.data.baseData.name === name;

describe('connector telemetry', () => {
  it('exports traces, metrics and logs to Application Insights with an Entra ID token', async () => {
    const { child, importsFile } = await startConnector(true);
    const exportId = await exercise(child.ready.url);
    await child.stop(20_000);

    expect(readFileSync(importsFile, 'utf8').split('\n')).toContain('@azure/monitor-opentelemetry');
    // Entra ID: every batch carried the managed identity's token for Azure Monitor.
    expect(monitor.tokenRequests.length).toBeGreaterThan(0);
    expect(monitor.tokenRequests.every((resource) => resource.startsWith('https://monitor.azure.com'))).toBe(true);
    expect(monitor.authorizations.length).toBeGreaterThan(0);
    expect(monitor.authorizations.every((header) => header === `Bearer ${monitor.token}`)).toBe(true);

    const envelopes = monitor.envelopes;
    expect(envelopes.every((envelope) => envelope.tags['ai.cloud.role'] === 'enos-aml-connector')).toBe(true);
    // One trace: the POST that submitted the export is the root of its run, Hive and storage spans.
    const submit = envelopes.filter(of('RequestData')).find(named('POST /api/v1/exports'))!;
    expect(submit).toBeDefined();
    expect(submit.data.baseData.responseCode).toBe('202');
    const operation = submit.tags['ai.operation.id'];
    const inTrace = envelopes.filter((envelope) => envelope.tags['ai.operation.id'] === operation);
    const names = new Set(inTrace.map((envelope) => envelope.data.baseData.name));
    for (const name of ['sql.guard', 'export.run', 'hive.query', 'hive.fetch', 'storage.upload']) expect(names, name).toContain(name);
    const run = inTrace.find(named('export.run'))!;
    expect(run.data.baseData.properties['export.id']).toBe(exportId);
    expect(run.data.baseData.properties['export.outcome']).toBe('succeeded');
    expect(inTrace.find(named('storage.upload'))!.data.baseData.properties['export.id']).toBe(exportId);
    // The user is on the request span (Application Insights' authenticated user), and its organization.
    const read = envelopes.filter(of('RequestData')).find(named('GET /api/v1/exports/:id'))!;
    expect(read.tags['ai.user.authUserId']).toBe('u-demo');
    expect(read.data.baseData.properties['enos.organization']).toBe('demo-org');

    // Metrics, with their dimensions.
    const metrics = envelopes.filter(of('MetricData')).flatMap((envelope) =>
      (envelope.data.baseData.metrics as { name: string; value: number }[]).map((metric) => ({ ...metric, properties: envelope.data.baseData.properties ?? {} })),
    );
    const metric = (name: string) => metrics.filter((m) => m.name === name);
    expect(metric('connector.exports').find((m) => m.properties.outcome === 'succeeded')?.value).toBe(1);
    expect(metric('connector.export.rows')[0]?.value).toBe(7);
    expect(metric('connector.export.bytes')[0]?.value).toBeGreaterThan(0);
    expect(metric('connector.export.rows_per_second').length).toBeGreaterThan(0);
    expect(metric('connector.hive.query.duration').length).toBeGreaterThan(0);
    expect(metric('connector.guard.refusals').find((m) => m.properties.code === 'sql_rejected')?.value).toBe(1);
    expect(metric('connector.jobs.queued').length).toBeGreaterThan(0);

    // Logs, correlated with the trace they were written in.
    const messages = envelopes.filter(of('MessageData'));
    const succeeded = messages.find((envelope) => envelope.data.baseData.message === 'export succeeded')!;
    expect(succeeded).toBeDefined();
    expect(succeeded.tags['ai.operation.id']).toBe(operation);
    expect(succeeded.data.baseData.properties.jobId).toBe(exportId);
    const audit = messages.find((envelope) => envelope.data.baseData.message === 'audit' && String(envelope.data.baseData.properties.audit).includes('export.submitted'))!;
    expect(JSON.parse(audit.data.baseData.properties.audit)).toMatchObject({ exportId, userName: 'demo', tables: ['enos.asset'] });
    // Secrets stay out of what is exported.
    expect(JSON.stringify(envelopes)).not.toMatch(/demo-password|sig=[A-Za-z0-9%]{20}/);
  });

  it('sends nothing, and never loads the exporter, without a connection string', async () => {
    const before = monitor.envelopes.length;
    const { child, importsFile } = await startConnector(false);
    await exercise(child.ready.url);
    await child.stop(20_000);
    expect(monitor.envelopes.length).toBe(before);
    const imported = readFileSync(importsFile, 'utf8').split('\n');
    expect(imported).toContain('@opentelemetry/api');
    expect(imported).not.toContain('@azure/monitor-opentelemetry');
  });
});

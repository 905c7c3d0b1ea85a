/**
 * A connector process killed mid-export (SIGKILL: no shutdown hook runs) and started again on
 * the same job store must not leave the job "running" forever: on start it marks the jobs this
 * instance had in flight as failed with code `interrupted`, nothing was published, and the temp
 * file a local export was writing is removed by that start.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseReadyLine, startChildService, tsxArgs, type ChildService } from '../../../scripts/lib/child-service.js';
import { startEnosStandIn, type EnosStandIn } from '../../../scripts/enos-stand-in/index.js';
import type { HiveStandIn } from '../../../scripts/hive-stand-in/index.js';
import { freePort, HIVE_USER, startHiveForTests } from '../../support/connector-stack.js';

const MAIN = fileURLToPath(new URL('../../../app/src/main.ts', import.meta.url));

let hive: HiveStandIn;
let enos: EnosStandIn;
const running: ChildService<{ url: string }>[] = [];

beforeAll(async () => {
  [hive, enos] = await Promise.all([startHiveForTests(5_000), startEnosStandIn()]);
});
afterAll(async () => {
  await Promise.all(running.map((child) => child.stop()));
  await Promise.all([hive?.close(), enos?.close()]);
});

interface Api {
  call(method: string, route: string, token?: string, body?: unknown): Promise<{ status: number; json: any }>;
}

function apiAt(url: string): Api {
  return {
    async call(method, route, token, body) {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, json: (await response.json()) as any };
    },
  };
}

/** The env of one connector instance on the shared stand-ins; the same env restarts it. */
async function envFor(storage: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const listener = hive.listeners[0]!;
  return {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    INSTANCE_ID: 'restart-test',
    HIVE_HOST: listener.host,
    HIVE_PORT: String(listener.port),
    HIVE_USERNAME: HIVE_USER.name,
    HIVE_PASSWORD: HIVE_USER.password,
    HIVE_POLL_INTERVAL_MS: '50',
    ENOS_BASE_URL: enos.url,
    ENOS_APP_KEY: enos.apps[0]!.appKey,
    ENOS_APP_SECRET: enos.apps[0]!.appSecret,
    SESSION_SIGNING_KEY: randomBytes(32).toString('base64'),
    ORG_ACCESS: JSON.stringify({ 'demo-org': { databases: ['enos'] } }),
    SQLITE_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'restart-')), 'jobs.sqlite'),
    ...storage,
  };
}

async function start(env: NodeJS.ProcessEnv): Promise<ChildService<{ url: string }>> {
  const child = await startChildService({ name: 'connector', command: process.execPath, args: tsxArgs(MAIN), env, readyWhen: (line) => parseReadyLine<{ url: string }>(line) });
  running.push(child);
  return child;
}

/** Signs in, submits `sql` and waits until `ready(job)` holds for the running export. */
async function exportUntil(api: Api, sql: string, ready: (job: any) => boolean | Promise<boolean>): Promise<{ token: string; id: string }> {
  const { json: session } = await api.call('POST', '/api/v1/sessions', undefined, { username: 'demo', password: 'demo-password' });
  const { json: job } = await api.call('POST', '/api/v1/exports', session.token, { sql });
  for (let i = 0; ; i++) {
    const { json } = await api.call('GET', `/api/v1/exports/${job.id}`, session.token);
    if (json.status === 'running' && (await ready(json))) break;
    if (i > 400) throw new Error(`export never got there: ${JSON.stringify(json)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { token: session.token, id: job.id };
}

async function kill(child: ChildService<{ url: string }>): Promise<void> {
  child.child.kill('SIGKILL');
  await new Promise((resolve) => child.child.once('exit', resolve));
}

describe('a connector killed mid-export', () => {
  it('marks the export interrupted when it starts again, and publishes nothing', async () => {
    const azurite = inject('azurite');
    const container = `exports-${randomBytes(4).toString('hex')}`;
    await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container).create();
    const env = await envFor({ BLOB_CONNECTION_STRING: azurite.connectionString, BLOB_CONTAINER: container });

    const fault = hive.faults.add({ match: 'restart_probe', kind: 'delay', ms: 60_000, during: 'execute' });
    try {
      const first = await start(env);
      const { token, id } = await exportUntil(apiAt(first.ready.url), "SELECT *, 'restart_probe' AS tag FROM enos.asset", () => true);
      await kill(first);

      const second = await start(env);
      // The session token survives the restart: same signing key, durable revocation list.
      const { status, json } = await apiAt(second.ready.url).call('GET', `/api/v1/exports/${id}`, token);
      expect(status).toBe(200);
      expect(json.status).toBe('failed');
      expect(json.error).toEqual({ code: 'interrupted', message: expect.stringMatching(/again/i) });
      expect(json.downloadUrl).toBeNull();
      const blobs: string[] = [];
      for await (const blob of BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container).listBlobsFlat()) blobs.push(blob.name);
      expect(blobs).toEqual([]);
    } finally {
      fault.remove();
    }
  });

  it('removes the partial file of a local export it marks interrupted at that restart, not a day later', async () => {
    const exportsDir = path.join(mkdtempSync(path.join(tmpdir(), 'restart-local-')), 'exports');
    const partials = async () => (await readdir(path.join(exportsDir, '.partial')).catch(() => [] as string[]));
    const env = await envFor({
      STORAGE_METHOD: 'local',
      LOCAL_EXPORT_DIR: exportsDir,
      LOCAL_MIN_FREE_MB: '1',
      FILE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      URL_SIGNING_KEY: randomBytes(32).toString('base64'),
      HIVE_FETCH_SIZE: '100',
    });
    // Rows trickle in: the export is writing its temp file when the process dies.
    const fault = hive.faults.add({ match: 'restart_local_probe', kind: 'delay', ms: 2_000, during: 'fetch' });
    try {
      const first = await start(env);
      const { token, id } = await exportUntil(
        apiAt(first.ready.url),
        "SELECT *, 'restart_local_probe' AS tag FROM enos.measurement",
        async (job) => job.progress.rows > 0 && (await partials()).length > 0,
      );
      await kill(first);
      expect(await partials()).toEqual([expect.stringMatching(/\.data\.part$/)]);

      const second = await start(env);
      const { json } = await apiAt(second.ready.url).call('GET', `/api/v1/exports/${id}`, token);
      expect(json).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
      expect(await partials()).toEqual([]);
      expect((await readdir(exportsDir)).filter((name) => name !== '.partial')).toEqual([]);
    } finally {
      fault.remove();
    }
  });
});

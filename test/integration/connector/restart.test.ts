/**
 * A connector process killed mid-export (SIGKILL: no shutdown hook runs) and started again on
 * the same job store must not leave the job "running" forever: on start it marks the jobs this
 * instance had in flight as failed with code `interrupted`, and nothing was published.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
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

describe('a connector killed mid-export', () => {
  it('marks the export interrupted when it starts again, and publishes nothing', async () => {
    const azurite = inject('azurite');
    const container = `exports-${randomBytes(4).toString('hex')}`;
    await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container).create();
    const listener = hive.listeners[0]!;
    const env: NodeJS.ProcessEnv = {
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
      BLOB_CONNECTION_STRING: azurite.connectionString,
      BLOB_CONTAINER: container,
      SQLITE_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'restart-')), 'jobs.sqlite'),
    };
    const start = async () => {
      const child = await startChildService({ name: 'connector', command: process.execPath, args: tsxArgs(MAIN), env, readyWhen: (line) => parseReadyLine<{ url: string }>(line) });
      running.push(child);
      return child;
    };
    const call = async (url: string, method: string, route: string, token?: string, body?: unknown) => {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, json: (await response.json()) as any };
    };

    const fault = hive.faults.add({ match: 'restart_probe', kind: 'delay', ms: 60_000, during: 'execute' });
    try {
      const first = await start();
      const { json: session } = await call(first.ready.url, 'POST', '/api/v1/sessions', undefined, { username: 'demo', password: 'demo-password' });
      const { json: job } = await call(first.ready.url, 'POST', '/api/v1/exports', session.token, { sql: "SELECT *, 'restart_probe' AS tag FROM enos.asset" });
      for (let i = 0; ; i++) {
        const { json } = await call(first.ready.url, 'GET', `/api/v1/exports/${job.id}`, session.token);
        if (json.status === 'running') break;
        if (i > 200) throw new Error(`export never started: ${JSON.stringify(json)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));

      const second = await start();
      // The session token survives the restart: same signing key, durable revocation list.
      const { status, json } = await call(second.ready.url, 'GET', `/api/v1/exports/${job.id}`, session.token);
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
});

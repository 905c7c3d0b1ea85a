/**
 * `npm run cleanup`, as an operator runs it: a child process with flags, the summary on stdout,
 * the exit code saying whether anything was left.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TableClient } from '@azure/data-tables';
import { describe, expect, inject, it } from 'vitest';
import { blobs, createContainer, DAY, names, seed } from './fixtures.js';

const run = promisify(execFile);
const azurite = inject('azurite');
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/cleanup-once.ts');

const cleanupOnce = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { env: { PATH: process.env.PATH } });

describe('npm run cleanup', () => {
  it('runs once against the account and container it is given and prints the summary', async () => {
    const container = await createContainer(azurite.connectionString, 'cli');
    const table = TableClient.fromConnectionString(azurite.connectionString, `cli${randomUUID().replaceAll('-', '').slice(0, 10)}`, { allowInsecureConnection: true });
    await table.createTable();
    const past = new Date(Date.now() - DAY);
    await table.createEntity({ partitionKey: 'owner', rowKey: 'job1', status: 'succeeded', expiresAt: past, updatedAt: past });
    const expired = blobs(15, () => ({ tag: past.toISOString() }));
    const live = blobs(5, () => ({ tag: new Date(Date.now() + DAY).toISOString() }));
    await seed(container, [...expired, ...live]);

    const { stdout, stderr } = await cleanupOnce([
      '--connection-string', azurite.connectionString, '--container', container.containerName, '--job-table', table.tableName,
    ]);

    expect(stdout).toMatch(/^cleanup summary: found=15 deleted=15 alreadyGone=0 failed=0 skipped=0 .*jobsExpired=1 .*complete=true durationMs=\d+\n$/);
    expect(stderr).toContain(`container "${container.containerName}"`);
    expect(await names(container)).toEqual(new Set(live.map((blob) => blob.name)));
    expect((await table.getEntity<{ status: string }>('owner', 'job1')).status).toBe('expired');
    await container.delete();
    await table.deleteTable();
  });

  it('explains bad usage with exit code 2 and names the setting', async () => {
    const failure = await cleanupOnce(['--connection-string', azurite.connectionString, '--container', 'Not_A_Container']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('EXPORTS_CONTAINER="Not_A_Container": expected a container name') });
  });
});

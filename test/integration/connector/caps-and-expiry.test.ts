/**
 * Row and byte caps stop an export at a row boundary and say so (`truncated: true`), never
 * silently; and an export past its lifetime is shown as expired at once, then deleted by the
 * sweeper, which kills its URL.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { parse } from 'csv-parse/sync';
import { describe, expect, inject, it } from 'vitest';
import { startConnectorStack, useStandIns } from '../../support/connector-stack.js';

const standIns = useStandIns(30_000);

const SQL = 'SELECT asset_id, ts, point, value, quality FROM enos.measurement ORDER BY asset_id, ts, point';

describe('caps', () => {
  it('stops at the row cap and marks the export truncated', async () => {
    const stack = await startConnectorStack({ storage: 'blob', hive: standIns.hive, enos: standIns.enos, env: { EXPORT_MAX_ROWS: '12345' } });
    try {
      const token = await stack.signIn('demo');
      const job = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql: SQL })).json.id);
      expect(job).toMatchObject({ status: 'succeeded', truncated: true, progress: { rows: 12345 } });
      const records = parse(await (await fetch(job.downloadUrl)).text()) as string[][];
      expect(records).toHaveLength(12346);

      // Exactly at the cap is not truncated: nothing was left out.
      const exact = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql: `${SQL} LIMIT 12345` })).json.id);
      expect(exact).toMatchObject({ status: 'succeeded', truncated: false, progress: { rows: 12345 } });
    } finally {
      await stack.stop();
    }
  });

  it('stops at the byte cap on a whole row and marks the export truncated', async () => {
    const stack = await startConnectorStack({ storage: 'local', hive: standIns.hive, enos: standIns.enos, env: { EXPORT_MAX_BYTES: '50000' } });
    try {
      const token = await stack.signIn('demo');
      const job = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql: SQL })).json.id);
      expect(job.status).toBe('succeeded');
      expect(job.truncated).toBe(true);
      const body = Buffer.from(await (await fetch(job.downloadUrl)).arrayBuffer());
      expect(body.length).toBeLessThanOrEqual(50_000);
      expect(body.length).toBeGreaterThan(45_000);
      expect(body.subarray(-2).toString()).toBe('\r\n');
      const records = parse(body) as string[][];
      expect(records.every((record) => record.length === 5)).toBe(true);
      expect(records.length - 1).toBe(job.progress.rows);
    } finally {
      await stack.stop();
    }
  });
});

describe('expiry', () => {
  it('shows an export expired once past its lifetime, and the sweeper deletes it', async () => {
    let now = Date.now();
    const stack = await startConnectorStack({ storage: 'blob', hive: standIns.hive, enos: standIns.enos, overrides: { clock: () => new Date(now) } });
    try {
      const token = await stack.signIn('demo');
      const job = await stack.waitFor(token, (await stack.api(token, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset', ttlMinutes: 5 })).json.id);
      expect(job.status).toBe('succeeded');
      expect((await fetch(job.downloadUrl)).status).toBe(200);

      now += 6 * 60_000;
      const expired = (await stack.api(token, 'GET', `/api/v1/exports/${job.id}`)).json;
      expect(expired).toMatchObject({ status: 'expired', downloadUrl: null });
      expect((await stack.api(token, 'POST', `/api/v1/exports/${job.id}/link`, {})).status).toBe(410);

      expect(await stack.connector.scheduler.sweep()).toBe(1);
      const container = BlobServiceClient.fromConnectionString(inject('azurite').connectionString).getContainerClient(stack.container);
      const names: string[] = [];
      for await (const blob of container.listBlobsFlat()) names.push(blob.name);
      expect(names.filter((name) => name.includes(job.id))).toEqual([]);
      expect((await fetch(job.downloadUrl)).status).toBe(404);
      expect(await stack.connector.scheduler.sweep()).toBe(0);
      expect((await stack.api(token, 'GET', `/api/v1/exports/${job.id}`)).json.status).toBe('expired');
    } finally {
      await stack.stop();
    }
  });
});

/**
 * The connector with the Azure Table job store (what several instances behind a load balancer
 * use), on Azurite: the same flow works, and a job accepted by one instance is visible to,
 * and cancellable from, another instance sharing the table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnosStandIn, type EnosStandIn } from '../../../scripts/enos-stand-in/index.js';
import type { HiveStandIn } from '../../../scripts/hive-stand-in/index.js';
import { startConnectorStack, startHiveForTests, type ConnectorStack } from '../../support/connector-stack.js';

let hive: HiveStandIn;
let enos: EnosStandIn;
let first: ConnectorStack;
let second: ConnectorStack;

beforeAll(async () => {
  [hive, enos] = await Promise.all([startHiveForTests(5_000), startEnosStandIn()]);
  first = await startConnectorStack({ storage: 'blob', jobStore: 'table', hive, enos });
  // The second instance shares the table, the container and the signing key, as a scale set does.
  second = await startConnectorStack({
    storage: 'blob',
    jobStore: 'table',
    hive,
    enos,
    container: first.container,
    env: { JOBS_TABLE_NAME: first.env.JOBS_TABLE_NAME!, SESSION_SIGNING_KEY: first.env.SESSION_SIGNING_KEY!, INSTANCE_ID: 'second-instance' },
  });
});
afterAll(async () => {
  await second?.stop();
  await first?.stop();
  await Promise.all([hive?.close(), enos?.close()]);
});

describe('several connector instances on one Table job store', () => {
  it('exports through one instance and serves the job, its URL and the list from the other', async () => {
    const token = await first.signIn('demo');
    const { json } = await first.api(token, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset ORDER BY asset_id' });
    const done = await second.waitFor(token, json.id);
    expect(done.status).toBe('succeeded');
    expect((await fetch(done.downloadUrl)).status).toBe(200);
    expect((await second.api(token, 'GET', '/api/v1/exports')).json.exports.map((job: { id: string }) => job.id)).toContain(json.id);
  });

  it('cancels from the other instance: the running one sees the request and stops', async () => {
    const fault = hive.faults.add({ match: 'cross_cancel', kind: 'delay', ms: 2_000, during: 'fetch' });
    try {
      const token = await first.signIn('demo');
      const { json } = await first.api(token, 'POST', '/api/v1/exports', { sql: "SELECT *, 'cross_cancel' AS tag FROM enos.measurement" });
      await first.waitFor(token, json.id, (job) => job.status === 'running');
      const cancel = await second.api(token, 'POST', `/api/v1/exports/${json.id}/cancel`);
      expect(cancel.status).toBe(202);
      expect(cancel.json.cancelRequested).toBe(true);
      const final = await first.waitFor(token, json.id, undefined, 30_000);
      expect(final.status).toBe('cancelled');
    } finally {
      fault.remove();
    }
  });

  it('revokes a session on every instance', async () => {
    const token = await first.signIn('demo');
    expect((await second.api(token, 'DELETE', '/api/v1/sessions/current')).status).toBe(204);
    expect((await first.api(token, 'GET', '/api/v1/exports')).status).toBe(401);
  });
});

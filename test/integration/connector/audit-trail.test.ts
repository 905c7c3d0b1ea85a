/**
 * The audit trail through the real connector, on both job store backends (SQLite and Azurite
 * Table): sign-ins, submissions with SQL, tables, format and client address, guard and
 * authorization refusals, link renewals, deletions that leave the record behind, local downloads
 * and the sweeper's expiry; GET /api/v1/audit for one's own events, for an organization's
 * auditors, refused to everyone else, and as CSV.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../app/src/audit/audit-event.js';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const standIns = useStandIns(2_000);
const CLIENT = '192.0.2.77';

for (const jobStore of ['sqlite', 'table'] as const) {
  describe(`audit trail on the ${jobStore} job store`, () => {
    let stack: ConnectorStack;
    let demo: string;
    const events = async (organizationId: string, filter: (event: AuditEvent) => boolean = () => true) =>
      (await stack.connector.audit.store.query({ organizationId, limit: 500 })).filter(filter);
    const waitForEvent = async (organizationId: string, filter: (event: AuditEvent) => boolean) => {
      for (let i = 0; i < 100; i++) {
        const found = await events(organizationId, filter);
        if (found.length > 0) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the audit event never arrived');
    };

    beforeAll(async () => {
      stack = await startConnectorStack({
        storage: 'blob',
        jobStore,
        hive: standIns.hive,
        enos: standIns.enos,
        env: { AUDITORS: JSON.stringify({ 'demo-org': ['auditor'] }) },
      });
      demo = await stack.signIn('demo');
    });
    afterAll(async () => stack?.stop());

    it('records sign-ins: who and from where when they succeed, the account tried when they fail', async () => {
      const ok = await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'demo', password: 'demo-password' }, { 'x-forwarded-for': CLIENT });
      expect(ok.status).toBe(201);
      const bad = await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'demo', password: 'nope' }, { 'x-forwarded-for': '192.0.2.99' });
      expect(bad.status).toBe(401);
      const succeeded = await events('demo-org', (e) => e.type === 'signin.succeeded' && e.clientAddress === CLIENT);
      expect(succeeded[0]).toMatchObject({ userId: 'u-demo', userName: 'demo', via: 'session', outcome: 'success' });
      const failed = await events('', (e) => e.type === 'signin.failed' && e.clientAddress === '192.0.2.99');
      expect(failed[0]).toMatchObject({ userName: 'demo', outcome: 'failure', reason: 'invalid_credentials', via: 'anonymous' });
    });

    it('records a submission with its SQL, tables, format and client, then its success', async () => {
      const sql = 'SELECT a.asset_id, m.value FROM enos.asset a JOIN enos.measurement m ON a.asset_id = m.asset_id LIMIT 10';
      const submitted = await stack.api(demo, 'POST', '/api/v1/exports', { sql, format: 'csv.gz' }, { 'x-forwarded-for': CLIENT });
      expect(submitted.status).toBe(202);
      const id = submitted.json.id as string;
      await stack.waitFor(demo, id);
      const [event] = await events('demo-org', (e) => e.type === 'export.submitted' && e.exportId === id);
      expect(event).toMatchObject({ sql, tables: ['enos.asset', 'enos.measurement'], format: 'csv.gz', clientAddress: CLIENT, userName: 'demo', via: 'session' });
      expect(event!.tokenId).toBeTruthy();
      const [done] = await waitForEvent('demo-org', (e) => e.type === 'export.succeeded' && e.exportId === id);
      expect(done!.detail).toMatch(/rows=10 .*expiresAt=/);
    });

    it("records the guard's refusals and authorization refusals, and no export", async () => {
      expect((await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'DROP TABLE enos.asset' })).status).toBe(400);
      expect((await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos_other.site' })).status).toBe(403);
      const [refused] = await events('demo-org', (e) => e.type === 'export.refused');
      expect(refused).toMatchObject({ sql: 'DROP TABLE enos.asset', reason: 'sql_rejected', outcome: 'failure' });
      const [forbidden] = await events('demo-org', (e) => e.type === 'authz.refused' && e.sql === 'SELECT * FROM enos_other.site');
      expect(forbidden).toMatchObject({ reason: 'table_forbidden', outcome: 'failure' });
      expect(refused!.exportId).toBeUndefined();
    });

    it('records link renewals and deletions; deleting the export leaves its record', async () => {
      const { json } = await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset LIMIT 3' });
      await stack.waitFor(demo, json.id);
      expect((await stack.api(demo, 'POST', `/api/v1/exports/${json.id}/link`, { ttlMinutes: 60 })).status).toBe(200);
      expect((await stack.api(demo, 'DELETE', `/api/v1/exports/${json.id}`)).status).toBe(204);
      expect((await stack.api(demo, 'GET', `/api/v1/exports/${json.id}`)).status).toBe(404);
      const trail = await stack.api(demo, 'GET', `/api/v1/audit?exportId=${json.id}`);
      expect(trail.status).toBe(200);
      expect(trail.json.events.map((e: { type: string }) => e.type)).toEqual(['export.deleted', 'export.link_renewed', 'export.succeeded', 'export.submitted']);
    });

    it("shows users their own events only, an organization's auditor everyone's, and refuses others", async () => {
      const other = await stack.signIn('other');
      await stack.api(other, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos_other.site' });
      const mine = await stack.api(demo, 'GET', '/api/v1/audit?limit=500');
      expect(mine.json.events.length).toBeGreaterThan(3);
      expect(new Set(mine.json.events.map((e: { userName: string }) => e.userName))).toEqual(new Set(['demo']));

      const refused = await stack.api(demo, 'GET', '/api/v1/audit?scope=organization');
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe('forbidden');
      expect((await events('demo-org', (e) => e.type === 'authz.refused' && e.reason === 'not_auditor')).length).toBe(1);

      const auditor = await stack.signIn('auditor');
      expect((await stack.api(auditor, 'GET', '/api/v1/me')).json.roles).toEqual(['auditor']);
      expect((await stack.api(demo, 'GET', '/api/v1/me')).json.roles).toEqual([]);
      const organization = await stack.api(auditor, 'GET', '/api/v1/audit?scope=organization&limit=500');
      expect(organization.status).toBe(200);
      const names = new Set(organization.json.events.map((e: { userName: string }) => e.userName));
      expect(names.has('demo')).toBe(true);
      expect(names.has('auditor')).toBe(true);
      expect(names.has('other')).toBe(false);
      const onlyDemo = await stack.api(auditor, 'GET', '/api/v1/audit?scope=organization&user=demo&type=export.submitted');
      expect(onlyDemo.json.events.length).toBeGreaterThan(0);
      expect(onlyDemo.json.events.every((e: { userName: string; type: string }) => e.userName === 'demo' && e.type === 'export.submitted')).toBe(true);
    });

    it('pages with nextCursor and refuses bad parameters with 400', async () => {
      const first = await stack.api(demo, 'GET', '/api/v1/audit?limit=2');
      expect(first.json.events).toHaveLength(2);
      const second = await stack.api(demo, 'GET', `/api/v1/audit?limit=2&cursor=${first.json.nextCursor}`);
      expect(second.json.events[0].id < first.json.events[1].id).toBe(true);
      for (const bad of ['limit=501', 'type=export.nonsense', 'from=yesterday', 'cursor=1', 'scope=all', 'user=demo', 'whatever=1']) {
        const response = await stack.api(demo, 'GET', `/api/v1/audit?${bad}`);
        expect(response.status, bad).toBe(400);
      }
    });

    it('exports the trail as CSV, with formulas defused', async () => {
      await stack.api(demo, 'POST', '/api/v1/exports', { sql: '-- =HYPERLINK("x")\nSELECT 1' });
      const response = await fetch(`${stack.url}/api/v1/audit?format=csv`, { headers: { authorization: `Bearer ${demo}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="audit-demo-org-/);
      const rows = parse(await response.text(), { columns: true }) as { id: string; type: string; sql: string; tables: string }[];
      const api = (await stack.api(demo, 'GET', '/api/v1/audit?limit=500')).json.events;
      expect(rows.map((row) => row.id)).toEqual(api.map((e: { id: string }) => e.id));
      const submitted = rows.find((row) => row.type === 'export.submitted' && row.sql.includes('JOIN'))!;
      expect(submitted.tables).toBe('enos.asset enos.measurement');
      expect(rows.find((row) => row.sql.includes('HYPERLINK'))!.sql.startsWith("'--")).toBe(true);
    });
  });
}

describe('audit trail of local downloads and the sweeper', () => {
  let stack: ConnectorStack;
  let now = Date.now();
  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'local', hive: standIns.hive, enos: standIns.enos, overrides: { clock: () => new Date(now) } });
  });
  afterAll(async () => stack?.stop());

  it('records who downloaded an export, once per client while it reads, and that the sweeper deleted it', async () => {
    const demo = await stack.signIn('demo');
    const { json } = await stack.api(demo, 'POST', '/api/v1/exports', { sql: 'SELECT * FROM enos.asset', ttlMinutes: 5 });
    const done = await stack.waitFor(demo, json.id);
    for (const range of ['bytes=0-9', 'bytes=10-19']) {
      expect((await fetch(done.downloadUrl, { headers: { range, 'x-forwarded-for': CLIENT } })).status).toBe(206);
    }
    expect((await fetch(done.downloadUrl, { headers: { 'x-forwarded-for': '192.0.2.78' } })).status).toBe(200);
    // The test's clock stands still, so both events share a millisecond: order them by client.
    const downloads = (await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['export.downloaded'], limit: 10 })).sort((a, b) =>
      a.clientAddress!.localeCompare(b.clientAddress!),
    );
    expect(downloads.map((e) => [e.clientAddress, e.exportId, e.via])).toEqual([
      [CLIENT, json.id, 'download_url'],
      ['192.0.2.78', json.id, 'download_url'],
    ]);
    expect(downloads[0]!.detail).toMatch(/Range bytes=0-9/);

    now += 6 * 60_000;
    expect(await stack.connector.scheduler.sweep()).toBe(1);
    expect((await fetch(done.downloadUrl)).status).toBe(410);
    const expired = await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['export.expired'], limit: 10 });
    expect(expired.map((e) => [e.exportId, e.via])).toEqual([[json.id, 'system']]);
  });
});

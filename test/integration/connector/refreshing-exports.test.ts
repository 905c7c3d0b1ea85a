/**
 * Refreshing exports and their stable links, through the real connector, Hive stand-in, EnOS
 * stand-in and Azurite:
 * - the stable URL keeps answering across a refresh, a failed refresh and a connector restart,
 *   and dies on revoke — on SQLite with Blob storage and on Table Storage with local storage;
 * - two instances sharing the store run each slot once (Table Storage, and one SQLite file);
 * - a schedule pauses, and its link stops serving, when EnOS says the owner's account is disabled;
 * - the API's rules: cron checks, limits, the guard, pause/resume, delete.
 * Ticks are driven by the test (SCHEDULE_TICK_SECONDS is an hour), with real slots a second or
 * two apart (SCHEDULE_MIN_INTERVAL_SECONDS=1).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotJobId } from '../../../app/src/schedules/schedule.js';
import { freePort, startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const standIns = useStandIns(2_000);
const TEST_SCHEDULES = { SCHEDULE_MIN_INTERVAL_SECONDS: '1', SCHEDULE_TICK_SECONDS: '3600', STABLE_LINK_REDIRECT_MINUTES: '10' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForSchedule(stack: ConnectorStack, token: string, id: string, done: (view: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await stack.api(token, 'GET', `/api/v1/schedules/${id}`);
    if (done(json)) return json;
    if (Date.now() > deadline) throw new Error(`schedule ${id} never got there: ${JSON.stringify(json)}`);
    await sleep(100);
  }
}

/** The stable URL's answer, without following it, and the data behind it. */
async function visit(stableUrl: string): Promise<{ status: number; location: string | null; rows?: string[][] }> {
  const response = await fetch(stableUrl, { redirect: 'manual' });
  const location = response.headers.get('location');
  await response.body?.cancel();
  if (response.status !== 302 || !location) return { status: response.status, location };
  expect(response.headers.get('cache-control')).toBe('no-store');
  const data = await fetch(location);
  expect(data.status).toBe(200);
  return { status: 302, location, rows: parse(await data.text()) as string[][] };
}

/** Waits a slot out, runs one tick, and waits for the run it made to end. */
async function refresh(stack: ConnectorStack, token: string, id: string, slotMs = 1_100): Promise<any> {
  const before = (await stack.api(token, 'GET', `/api/v1/schedules/${id}`)).json.runs[0]?.slot;
  await sleep(slotMs);
  const tick = await stack.connector.schedules.runner.tick();
  expect(tick.ran).toBe(1);
  return waitForSchedule(stack, token, id, (view) => view.runs[0].slot !== before && !['queued', 'running'].includes(view.runs[0].status));
}

for (const [jobStore, storage] of [
  ['sqlite', 'blob'],
  ['table', 'local'],
] as const) {
  describe(`the stable URL of a refreshing export (${jobStore} job store, ${storage} storage)`, () => {
    let stack: ConnectorStack;
    beforeAll(async () => {
      // A fixed port: the stable URL must be the same URL after the restart.
      stack = await startConnectorStack({ storage, jobStore, hive: standIns.hive, enos: standIns.enos, env: { ...TEST_SCHEDULES, PORT: String(await freePort()) } });
    });
    afterAll(async () => stack?.stop());

    it('keeps answering across a refresh, a failed refresh and a restart, and dies on revoke', async () => {
      const demo = await stack.signIn('demo');
      const created = await stack.api(demo, 'POST', '/api/v1/schedules', {
        name: 'assets',
        sql: "SELECT asset_id, 'refresh_probe' AS tag FROM enos.asset ORDER BY asset_id LIMIT 5",
        cron: '* * * * * *',
        keepLast: 2,
      });
      expect(created.status).toBe(201);
      const id = created.json.id as string;
      const stableUrl = created.json.stableUrl as string;
      expect(stableUrl).toMatch(new RegExp(`^${stack.url}/l/[A-Za-z0-9_-]{43}$`));

      // The first run starts at once; the link works as soon as it has succeeded.
      const first = await waitForSchedule(stack, demo, id, (view) => view.serving !== null);
      const firstVisit = await visit(stableUrl);
      expect(firstVisit.status).toBe(302);
      expect(firstVisit.rows).toHaveLength(6);
      expect(firstVisit.location).toContain(first.serving.exportId.slice(0, 8));

      // A refresh: the same URL now leads to the new result.
      const second = await refresh(stack, demo, id);
      expect(second.runs[0].status).toBe('succeeded');
      expect(second.serving.exportId).toBe(second.runs[0].exportId);
      expect(second.serving.exportId).not.toBe(first.serving.exportId);
      const secondVisit = await visit(stableUrl);
      expect(secondVisit.location).toContain(second.serving.exportId.slice(0, 8));
      expect(secondVisit.rows).toEqual(firstVisit.rows);

      // A failed refresh: the failure shows, and the link keeps serving the last good result.
      const fault = stack.hive.faults.add({ match: 'refresh_probe', kind: 'fail', times: 1 });
      try {
        const failed = await refresh(stack, demo, id);
        expect(failed.lastRun.status).toBe('failed');
        expect(failed.lastRun.error.code).toBe('hive_error');
        expect(failed.serving.exportId).toBe(second.serving.exportId);
      } finally {
        fault.remove();
      }
      const afterFailure = await visit(stableUrl);
      expect(afterFailure.status).toBe(302);
      expect(afterFailure.location).toContain(second.serving.exportId.slice(0, 8));

      // A restart: the schedule, its runs and its link are all still there.
      await stack.restart();
      const afterRestart = await visit(stableUrl);
      expect(afterRestart.status).toBe(302);
      expect(afterRestart.rows).toEqual(firstVisit.rows);
      const third = await refresh(stack, demo, id);
      expect(third.serving.exportId).toBe(third.runs[0].exportId);
      expect((await visit(stableUrl)).location).toContain(third.serving.exportId.slice(0, 8));
      // keepLast 2: the first result is gone, file and job.
      expect((await stack.api(demo, 'GET', `/api/v1/exports/${first.serving.exportId}`)).status).toBe(404);

      // Revoked: the URL is dead, while the schedule and its results stay.
      const revoked = await stack.api(demo, 'DELETE', `/api/v1/schedules/${id}/link`);
      expect(revoked.status).toBe(200);
      expect(revoked.json.stableUrl).toBeNull();
      const dead = await fetch(stableUrl, { redirect: 'manual' });
      expect(dead.status).toBe(410);
      expect(((await dead.json()) as any).error.code).toBe('gone');
      const audit = await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['schedule.link_served'], limit: 50 });
      expect(audit.filter((event) => event.scheduleId === id).length).toBeGreaterThanOrEqual(5);

      // A new link works, and the old one stays dead.
      const renewed = await stack.api(demo, 'POST', `/api/v1/schedules/${id}/link`, { linkTtlDays: 7 });
      expect(renewed.json.stableUrl).not.toBe(stableUrl);
      expect((await visit(renewed.json.stableUrl)).status).toBe(302);
      expect((await fetch(stableUrl, { redirect: 'manual' })).status).toBe(404);
    });
  });
}

for (const jobStore of ['table', 'sqlite'] as const) {
  describe(`two instances on one ${jobStore} store`, () => {
    let first: ConnectorStack;
    let second: ConnectorStack;
    beforeAll(async () => {
      const sqliteFile = path.join(mkdtempSync(path.join(tmpdir(), 'two-instances-')), 'jobs.sqlite');
      first = await startConnectorStack({ storage: 'blob', jobStore, hive: standIns.hive, enos: standIns.enos, env: { ...TEST_SCHEDULES, SQLITE_FILE: sqliteFile } });
      second = await startConnectorStack({
        storage: 'blob',
        jobStore,
        hive: standIns.hive,
        enos: standIns.enos,
        container: first.container,
        env: {
          ...TEST_SCHEDULES,
          SQLITE_FILE: sqliteFile,
          JOBS_TABLE_NAME: first.env.JOBS_TABLE_NAME!,
          SCHEDULES_TABLE_NAME: first.env.SCHEDULES_TABLE_NAME!,
          AUDIT_TABLE_NAME: first.env.AUDIT_TABLE_NAME!,
          ACCESS_TOKENS_TABLE_NAME: first.env.ACCESS_TOKENS_TABLE_NAME!,
          SESSION_SIGNING_KEY: first.env.SESSION_SIGNING_KEY!,
          INSTANCE_ID: `second-${randomBytes(3).toString('hex')}`,
        },
      });
    });
    afterAll(async () => {
      await second?.stop();
      await first?.stop();
    });

    it('run each slot of a schedule exactly once, whoever ticks', async () => {
      const demo = await first.signIn('demo');
      const created = await first.api(demo, 'POST', '/api/v1/schedules', { name: 'once', sql: 'SELECT asset_id FROM enos.asset LIMIT 3', cron: '*/2 * * * * *', keepLast: 10 });
      expect(created.status).toBe(201);
      const id = created.json.id as string;
      await waitForSchedule(first, demo, id, (view) => view.runs.length === 1);

      // Both instances tick at the same simulated instants, each a new slot; both read the
      // schedule as due before either writes (their reads are in flight together).
      const start = Date.now() + 2_000;
      let lost = 0;
      const rounds = 5;
      for (let round = 0; round < rounds; round++) {
        const now = new Date(start + round * 2_000);
        const [a, b] = await Promise.all([first.connector.schedules.runner.tick(now), second.connector.schedules.runner.tick(now)]);
        expect(a.ran + b.ran, `round ${round}`).toBe(1);
        lost += a.lost + b.lost;
      }
      expect(lost).toBeGreaterThan(0);

      const view = await waitForSchedule(second, demo, id, (json) => json.runs.length === rounds + 1 && json.runs.every((run: any) => run.status === 'succeeded'));
      const slots = view.runs.map((run: any) => run.slot);
      expect(new Set(slots).size).toBe(rounds + 1);
      const submitted = (await first.connector.audit.store.query({ organizationId: 'demo-org', types: ['export.submitted'], limit: 100 })).filter((event) => event.scheduleId === id);
      expect(submitted).toHaveLength(rounds + 1);
      expect(new Set(submitted.map((event) => event.exportId)).size).toBe(rounds + 1);
      // Jobs ran where they were claimed: both instances did some of the work.
      const exports = (await first.api(demo, 'GET', '/api/v1/exports')).json.exports.filter((job: any) => view.runs.some((run: any) => run.exportId === job.id));
      expect(exports).toHaveLength(rounds + 1);
    });

    it('lets a second instance finish a slot whose claimant died before making its job', async () => {
      const demo = await first.signIn('demo');
      const { json } = await first.api(demo, 'POST', '/api/v1/schedules', { name: 'takeover', sql: 'SELECT asset_id FROM enos.asset LIMIT 1', cron: '*/2 * * * * *' });
      await waitForSchedule(first, demo, json.id, (view) => view.runs.length === 1);
      // Claim a slot as a dead instance would leave it: a lapsed claim, and no job for the slot.
      const { store, service } = first.connector.schedules;
      const current = await service.get({ userId: 'u-demo', userName: 'demo', organizationId: 'demo-org' }, json.id);
      const slot = new Date(Date.now() - 1_000);
      const claimed = await store.replace({ ...current, claim: { slot, jobId: slotJobId(current.id, slot), by: 'dead-instance', until: new Date(Date.now() - 1) } });
      expect(claimed).toBeDefined();
      const result = await second.connector.schedules.runner.tick(new Date());
      expect(result.ran).toBe(1);
      const view = await waitForSchedule(second, demo, json.id, (v) => v.runs.length === 2 && v.runs[0].status === 'succeeded');
      expect(view.runs[0].exportId).toBe(slotJobId(current.id, slot));
    });
  });
}

describe('refreshing exports: the rules', () => {
  let stack: ConnectorStack;
  let offsetMs = 0;
  beforeAll(async () => {
    stack = await startConnectorStack({
      storage: 'blob',
      hive: standIns.hive,
      enos: standIns.enos,
      env: { SCHEDULE_MIN_INTERVAL_SECONDS: '600', SCHEDULE_TICK_SECONDS: '3600', SCHEDULES_MAX_PER_USER: '2', SCHEDULE_KEEP_MAX: '5', ACCOUNT_CHECK_INTERVAL_MINUTES: '1' },
      overrides: { clock: () => new Date(Date.now() + offsetMs) },
    });
  });
  afterAll(async () => stack?.stop());

  it('checks the cron, the limits and the SQL before anything is created', async () => {
    const demo = await stack.signIn('demo');
    const base = { name: 'x', sql: 'SELECT * FROM enos.asset' };
    const cases: [object, number, RegExp][] = [
      [{ ...base, cron: 'every hour' }, 400, /cron/],
      [{ ...base, cron: '61 * * * *' }, 400, /cron/],
      [{ ...base, cron: '*/5 * * * *' }, 400, /minimum interval is 600 s/],
      [{ ...base, cron: '0 0 1 * *' }, 400, /link would go dark/],
      [{ ...base, cron: '0 0 30 2 *' }, 400, /never runs/],
      [{ ...base, cron: '0 * * * *', keepLast: 6 }, 400, /keepLast/],
      [{ ...base, cron: '0 * * * *', linkTtlDays: 366 }, 400, /linkTtlDays/],
      [{ ...base, sql: 'DROP TABLE enos.asset', cron: '0 * * * *' }, 400, /./],
      [{ ...base, sql: 'SELECT * FROM enos_other.site', cron: '0 * * * *' }, 403, /enos_other\.site/],
    ];
    for (const [body, status, message] of cases) {
      const response = await stack.api(demo, 'POST', '/api/v1/schedules', body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.json.error.message).toMatch(message);
    }
    expect((await stack.api(demo, 'GET', '/api/v1/schedules')).json.schedules).toEqual([]);
  });

  it('pauses, resumes, shows the next run, limits how many a user has, and deletes with the results', async () => {
    const demo = await stack.signIn('demo');
    const created = await stack.api(demo, 'POST', '/api/v1/schedules', { name: 'hourly', sql: 'SELECT asset_id FROM enos.asset LIMIT 2', cron: '0 * * * *' });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const ran = await waitForSchedule(stack, demo, id, (view) => view.serving !== null);
    expect(new Date(ran.nextRunAt).getUTCMinutes()).toBe(0);
    expect(new Date(ran.nextRunAt).getTime()).toBeGreaterThan(Date.now());

    const paused = await stack.api(demo, 'POST', `/api/v1/schedules/${id}/pause`);
    expect(paused.json).toMatchObject({ status: 'paused', pausedReason: 'owner', nextRunAt: null });
    expect((await visit(paused.json.stableUrl)).status).toBe(302);
    const resumed = await stack.api(demo, 'POST', `/api/v1/schedules/${id}/resume`);
    expect(resumed.json).toMatchObject({ status: 'active', pausedReason: null });
    expect(resumed.json.nextRunAt).not.toBeNull();

    const other = await stack.signIn('other');
    expect((await stack.api(other, 'GET', `/api/v1/schedules/${id}`)).status).toBe(404);
    expect((await stack.api(other, 'POST', `/api/v1/schedules/${id}/pause`)).status).toBe(404);

    await stack.api(demo, 'POST', '/api/v1/schedules', { name: 'second', sql: 'SELECT 1', cron: '0 * * * *' });
    const third = await stack.api(demo, 'POST', '/api/v1/schedules', { name: 'third', sql: 'SELECT 1', cron: '0 * * * *' });
    expect(third.status).toBe(409);

    const exportId = ran.serving.exportId;
    expect((await stack.api(demo, 'DELETE', `/api/v1/schedules/${id}`)).status).toBe(204);
    expect((await stack.api(demo, 'GET', `/api/v1/schedules/${id}`)).status).toBe(404);
    expect((await stack.api(demo, 'GET', `/api/v1/exports/${exportId}`)).status).toBe(404);
    expect((await fetch(ran.stableUrl, { redirect: 'manual' })).status).toBe(404);
    const trail = (await stack.api(demo, 'GET', '/api/v1/audit?type=schedule.created,schedule.paused,schedule.resumed,schedule.deleted')).json.events;
    expect(trail.filter((event: any) => event.scheduleId === id).map((event: any) => event.type)).toEqual(['schedule.deleted', 'schedule.resumed', 'schedule.paused', 'schedule.created']);
  });

  it("pauses when EnOS says the owner's account is disabled, and the link stops serving", async () => {
    const multi = await stack.signIn('multi');
    const { json } = await stack.api(multi, 'POST', '/api/v1/schedules', { name: 'multi', sql: 'SELECT asset_id FROM enos.asset LIMIT 1', cron: '*/10 * * * *' });
    await waitForSchedule(stack, multi, json.id, (view) => view.serving !== null);
    expect((await visit(json.stableUrl)).status).toBe(302);
    standIns.enos.setUserState('multi', 1);
    try {
      // The next slot, at most ten minutes on (the EnOS gateway refuses signatures more than 15 minutes off).
      offsetMs += 10 * 60_000 + 1_000;
      const tick = await stack.connector.schedules.runner.tick();
      expect(tick, JSON.stringify(tick)).toMatchObject({ paused: 1 });
      const view = (await stack.api(multi, 'GET', `/api/v1/schedules/${json.id}`)).json;
      expect(view).toMatchObject({ status: 'paused', pausedReason: 'account_inactive', nextRunAt: null });
      expect((await fetch(json.stableUrl, { redirect: 'manual' })).status).toBe(410);
      expect((await stack.api(multi, 'POST', `/api/v1/schedules/${json.id}/resume`)).status).toBe(403);
    } finally {
      standIns.enos.setUserState('multi', 0);
    }
    offsetMs += 61_000;
    expect((await stack.api(multi, 'POST', `/api/v1/schedules/${json.id}/resume`)).status).toBe(200);
    // Only the redirect: the test's clock now runs ten minutes ahead of Azurite's, so a SAS it
    // signs would not be valid yet.
    expect((await fetch(json.stableUrl, { redirect: 'manual' })).status).toBe(302);
  });
});

/**
 * Personal access tokens through the real connector and the EnOS stand-in, on both job store
 * backends: made by a signed-in user and shown once, listed without the secret, used as a Bearer
 * credential that acts as its user, refused for making tokens, limited per token, revoked at once
 * on every instance, and stopped when EnOS says the account is disabled or gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from '../../../scripts/enos-stand-in/index.js';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const standIns = useStandIns(2_000);
const PAT = /^enosaml_pat_[A-Za-z0-9_-]{43}_[0-9a-f]{8}$/;

for (const jobStore of ['sqlite', 'table'] as const) {
  describe(`access tokens on the ${jobStore} job store`, () => {
    let stack: ConnectorStack;
    let demo: string;
    let offsetMs = 0;
    beforeAll(async () => {
      stack = await startConnectorStack({
        storage: 'blob',
        jobStore,
        hive: standIns.hive,
        enos: standIns.enos,
        env: { ACCESS_TOKEN_MAX_DAYS: '30', ACCESS_TOKEN_RATE_LIMIT_PER_MINUTE: '20', ACCOUNT_CHECK_INTERVAL_MINUTES: '1', ACCOUNT_CHECK_GRACE_HOURS: '0' },
        overrides: { clock: () => new Date(Date.now() + offsetMs) },
      });
      demo = await stack.signIn('demo');
    });
    afterAll(async () => stack?.stop());

    const makeToken = async (session: string, name = 'pipeline') => {
      const created = await stack.api(session, 'POST', '/api/v1/tokens', { name });
      expect(created.status).toBe(201);
      return created.json as { id: string; secret: string; expiresAt: string; status: string };
    };

    it('shows the secret once, then lists the token without it', async () => {
      const before = Date.now();
      const created = await makeToken(demo, 'nightly Azure ML pipeline');
      expect(created.secret).toMatch(PAT);
      expect(created.status).toBe('active');
      // The default lifetime is 90 days, capped by the configured maximum (30 here).
      expect(new Date(created.expiresAt).getTime() - before).toBeGreaterThan(29.9 * 86_400_000);
      expect(new Date(created.expiresAt).getTime() - before).toBeLessThan(30.1 * 86_400_000);
      const list = await stack.api(demo, 'GET', '/api/v1/tokens');
      const listed = list.json.tokens.find((token: { id: string }) => token.id === created.id);
      expect(listed).toMatchObject({ name: 'nightly Azure ML pipeline', status: 'active', lastUsedAt: null });
      expect(JSON.stringify(list.json)).not.toContain(created.secret);
      expect(JSON.stringify(list.json)).not.toContain(created.secret.slice(12, 40));
      expect((await stack.api(demo, 'POST', '/api/v1/tokens', { name: 'x', expiresInDays: 31 })).status).toBe(400);
      expect((await stack.api(demo, 'POST', '/api/v1/tokens', { name: '' })).status).toBe(400);
    });

    it('acts as its user: exports, lists, reads the audit trail; the trail names the token', async () => {
      const { id, secret } = await makeToken(demo);
      const submitted = await stack.api(secret, 'POST', '/api/v1/exports', { sql: 'SELECT asset_id FROM enos.asset LIMIT 2' });
      expect(submitted.status).toBe(202);
      // Polled with the session: polling every 50 ms with the token would spend its 20 calls a
      // minute within a second, and an export slowed by a loaded machine would see a 429.
      const done = await stack.waitFor(demo, submitted.json.id);
      expect(done.status).toBe('succeeded');
      // The same export is the token's too: the token acts as that user.
      expect((await stack.api(secret, 'GET', `/api/v1/exports/${done.id}`)).status).toBe(200);
      const trail = await stack.api(secret, 'GET', `/api/v1/audit?exportId=${done.id}&type=export.submitted`);
      expect(trail.json.events[0]).toMatchObject({ via: 'access_token', tokenId: id, userName: 'demo' });
      const uses = await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['token.used'], limit: 50 });
      expect(uses.find((event) => event.tokenId === id)).toMatchObject({ detail: 'POST /api/v1/exports', via: 'access_token' });
      const listed = (await stack.api(demo, 'GET', '/api/v1/tokens')).json.tokens.find((token: { id: string }) => token.id === id);
      expect(listed.lastUsedAt).not.toBeNull();
      expect((await stack.api(demo, 'GET', '/api/v1/me')).json.via).toBe('session');
      expect((await stack.api(secret, 'GET', '/api/v1/me')).json.via).toBe('access_token');
    });

    it('cannot make tokens or sign out as a session', async () => {
      const { secret } = await makeToken(demo);
      const refused = await stack.api(secret, 'POST', '/api/v1/tokens', { name: 'child' });
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe('forbidden');
      expect((await stack.api(secret, 'DELETE', '/api/v1/sessions/current')).status).toBe(400);
      expect((await stack.api(secret, 'GET', '/api/v1/exports')).status).toBe(200);
    });

    it('is limited per token', async () => {
      const { secret } = await makeToken(demo);
      const other = await makeToken(demo);
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await stack.api(secret, 'GET', '/api/v1/exports')).status);
      expect(statuses.slice(0, 20).every((status) => status === 200)).toBe(true);
      const limited = await stack.api(secret, 'GET', '/api/v1/exports');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await stack.api(other.secret, 'GET', '/api/v1/exports')).status).toBe(200);
    });

    it('stops working at once when revoked, and only its owner can revoke it', async () => {
      const { id, secret } = await makeToken(demo);
      const other = await stack.signIn('other');
      expect((await stack.api(other, 'DELETE', `/api/v1/tokens/${id}`)).status).toBe(404);
      expect((await stack.api(secret, 'GET', '/api/v1/exports')).status).toBe(200);
      expect((await stack.api(demo, 'DELETE', `/api/v1/tokens/${id}`)).status).toBe(204);
      const refused = await stack.api(secret, 'GET', '/api/v1/exports');
      expect(refused.status).toBe(401);
      expect(refused.json.error.code).toBe('unauthorized');
      expect((await stack.api(demo, 'DELETE', `/api/v1/tokens/${id}`)).status).toBe(404);
      expect((await stack.api(demo, 'GET', '/api/v1/tokens')).json.tokens.find((t: { id: string }) => t.id === id).status).toBe('revoked');
      const revoked = await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['token.created', 'token.revoked'], limit: 200 });
      expect(revoked.filter((event) => event.tokenId === id).map((event) => event.type)).toEqual(['token.revoked', 'token.created']);
    });

    it('refuses a forged token with the right shape but no record', async () => {
      const { secret } = await makeToken(demo);
      const forged = secret.replace(/_[0-9a-f]{8}$/, '_00000000');
      expect((await stack.api(forged, 'GET', '/api/v1/exports')).status).toBe(401);
      expect((await stack.api(`${secret}`.toUpperCase(), 'GET', '/api/v1/exports')).status).toBe(401);
    });

    it("stops when EnOS says the account is disabled, works again when it is enabled, and waits out no outage beyond the grace", async () => {
      const multi = await stack.signIn('multi');
      const { secret } = await makeToken(multi);
      expect((await stack.api(secret, 'GET', '/api/v1/exports')).status).toBe(200);
      standIns.enos.setUserState('multi', 1);
      try {
        // The cached answer holds until the check interval (1 minute) has passed.
        expect((await stack.api(secret, 'GET', '/api/v1/exports')).status).toBe(200);
        offsetMs += 61_000;
        const refused = await stack.api(secret, 'GET', '/api/v1/exports');
        expect(refused.status).toBe(401);
        expect(refused.json.error.code).toBe('account_inactive');
        expect(refused.json.error.message).toMatch(/disabled/);
        const [event] = await stack.connector.audit.store.query({ organizationId: 'demo-org', types: ['token.refused'], limit: 1 });
        expect(event).toMatchObject({ userName: 'multi', reason: 'account_disabled', outcome: 'failure' });
      } finally {
        standIns.enos.setUserState('multi', 0);
      }
      offsetMs += 61_000;
      expect((await stack.api(secret, 'GET', '/api/v1/exports')).status).toBe(200);

      // EnOS cannot answer and the grace (0 h here) is over: 503, not a silent pass.
      offsetMs += 61_000;
      standIns.enos.faults.failNext(3, { status: 503, path: PATHS.listUsers });
      const unavailable = await stack.api(secret, 'GET', '/api/v1/exports');
      expect(unavailable.status).toBe(503);
      expect(unavailable.json.error.code).toBe('identity_unavailable');
      standIns.enos.faults.reset();
      expect((await stack.api(secret, 'GET', '/api/v1/exports')).status).toBe(200);
    });
  });
}

describe('access tokens on several instances (Table job store)', () => {
  let first: ConnectorStack;
  let second: ConnectorStack;
  beforeAll(async () => {
    first = await startConnectorStack({ storage: 'blob', jobStore: 'table', hive: standIns.hive, enos: standIns.enos });
    second = await startConnectorStack({
      storage: 'blob',
      jobStore: 'table',
      hive: standIns.hive,
      enos: standIns.enos,
      container: first.container,
      env: {
        JOBS_TABLE_NAME: first.env.JOBS_TABLE_NAME!,
        ACCESS_TOKENS_TABLE_NAME: first.env.ACCESS_TOKENS_TABLE_NAME!,
        AUDIT_TABLE_NAME: first.env.AUDIT_TABLE_NAME!,
        SESSION_SIGNING_KEY: first.env.SESSION_SIGNING_KEY!,
        INSTANCE_ID: 'second-instance',
      },
    });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('accepts a token made on one instance on the other, and a revoke on either ends it on both', async () => {
    const session = await first.signIn('other');
    const created = await first.api(session, 'POST', '/api/v1/tokens', { name: 'scale-out' });
    const { id, secret } = created.json;
    expect((await second.api(secret, 'GET', '/api/v1/exports')).status).toBe(200);
    expect((await second.api(session, 'DELETE', `/api/v1/tokens/${id}`)).status).toBe(204);
    expect((await first.api(secret, 'GET', '/api/v1/exports')).status).toBe(401);
    expect((await second.api(secret, 'GET', '/api/v1/exports')).status).toBe(401);
  });
});

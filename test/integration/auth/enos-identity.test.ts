import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramsData, sha256Hex } from '../../../app/src/auth/enos-app-token.js';
import { EnosUnreachableError } from '../../../app/src/auth/enos-http.js';
import { createEnosIdentityProvider, type AccountDirectory, type EnosIdentityOptions, type IdentityProvider } from '../../../app/src/auth/enos-identity.js';
import { AppError } from '../../../app/src/errors.js';
import { PATHS, startEnosStandIn, type EnosStandIn } from '../../../scripts/enos-stand-in/index.js';

// The connector's EnOS identity adapter against the real stand-in over HTTP: the signed app
// token, the generic credential error, bounded retries for transient faults only, timeouts,
// logout and the readiness probe.

/** Moves 1 ms per reading, like a real clock, so timestamps of separate clients differ; tests jump it forward. */
class TestClock {
  constructor(private ms: number) {}
  readonly now = () => new Date(this.ms++);
  peek() {
    return this.ms;
  }
  advanceSeconds(seconds: number) {
    this.ms += seconds * 1000;
  }
}

interface LogEntry {
  obj: object;
  msg: string;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('EnOS identity provider', () => {
  const clock = new TestClock(Date.parse('2030-06-01T12:00:00Z'));
  let standIn: EnosStandIn;
  let app: { appKey: string; appSecret: string };

  beforeAll(async () => {
    standIn = await startEnosStandIn({ clock: clock.now });
    app = standIn.apps[0]!;
  });
  afterAll(async () => {
    await standIn?.close();
  });

  const provider = (overrides: Partial<EnosIdentityOptions> = {}, logs: LogEntry[] = []): IdentityProvider & AccountDirectory =>
    createEnosIdentityProvider({
      baseUrl: standIn.url,
      appKey: app.appKey,
      appSecret: app.appSecret,
      timeoutMs: 5_000,
      maxRetries: 2,
      clock: clock.now,
      logger: { warn: (obj, msg) => logs.push({ obj, msg }) },
      ...overrides,
    });
  const count = (path: string) => standIn.requestCount(path);

  describe('login', () => {
    it('turns the demo account into an identity in demo-org with the session expiry', async () => {
      const before = clock.peek();
      const identity = await provider().login('demo', 'demo-password');
      const after = clock.peek();
      const { enosSessionExpiresAt, ...rest } = identity;
      expect(rest).toEqual({
        userId: 'u-demo',
        userName: 'demo',
        organizationId: 'demo-org',
        organizationName: 'Demo Organization',
        enosSessionId: expect.stringMatching(/^IAM_S_/) as unknown as string,
      });
      expect(enosSessionExpiresAt.getTime()).toBeGreaterThanOrEqual(before + 7200 * 1000);
      expect(enosSessionExpiresAt.getTime()).toBeLessThanOrEqual(after + 7200 * 1000);
      expect(standIn.activeSession(identity.enosSessionId)).toBe(true);
    });

    it('puts other in other-org, and the two-organization user in its resident organization', async () => {
      const identities = provider();
      expect(await identities.login('other', 'other-password')).toMatchObject({ userId: 'u-other', organizationId: 'other-org', organizationName: 'Other Organization' });
      expect(await identities.login('multi', 'multi-password')).toMatchObject({ userId: 'u-multi', organizationId: 'demo-org' });
    });

    it('asks EnOS for the configured session lifetime', async () => {
      const before = clock.peek();
      const identity = await provider({ expireIntervalSeconds: 900 }).login('demo', 'demo-password');
      expect(identity.enosSessionExpiresAt.getTime() - before).toBeGreaterThanOrEqual(900 * 1000);
      expect(identity.enosSessionExpiresAt.getTime()).toBeLessThanOrEqual(clock.peek() + 900 * 1000);
      expect(identity.enosSessionExpiresAt.getTime() - before).toBeLessThan(7200 * 1000);
    });

    it('answers a wrong password and an unknown account with one generic 401, without retrying', async () => {
      const identities = provider();
      const errors: AppError[] = [];
      for (const [username, password] of [['demo', 'not-the-password'], ['nobody', 'demo-password']] as const) {
        const before = count(PATHS.login);
        errors.push(await rejection(identities.login(username, password)));
        expect(count(PATHS.login)).toBe(before + 1);
      }
      for (const error of errors) {
        expect(error).toMatchObject({ code: 'invalid_credentials', status: 401, message: 'Invalid username or password.' });
      }
      // The cause, which only reaches the log, keeps the EnOS code.
      expect(errors.map((error) => (error.cause as Error).message)).toEqual([expect.stringContaining('30400'), expect.stringContaining('30400')]);
    });

    it('says so when the password was right but has expired (30410) or the account is disabled (30511)', async () => {
      const identities = provider();
      // EnOS tells these apart only for the right password, so they reveal nothing to a guesser.
      expect(await rejection(identities.login('stale', 'stale-password'))).toMatchObject({ code: 'password_expired', status: 403, message: expect.stringMatching(/expired/) });
      expect(await rejection(identities.login('disabled', 'disabled-password'))).toMatchObject({ code: 'account_disabled', status: 403, message: expect.stringMatching(/disabled/) });
      expect(await rejection(identities.login('stale', 'wrong'))).toMatchObject({ code: 'invalid_credentials', status: 401 });
    });

    it('refuses empty credentials without calling EnOS', async () => {
      const before = count(PATHS.login);
      expect(await rejection(provider().login('demo', ''))).toMatchObject({ code: 'invalid_credentials' });
      expect(await rejection(provider().login('  ', 'demo-password'))).toMatchObject({ code: 'invalid_credentials' });
      expect(count(PATHS.login)).toBe(before);
    });
  });

  describe('app token', () => {
    it('signs exactly as the EnOS documentation sample does', () => {
      // "Invoking API with Access Token" (zh_CN 3.0.0): the published signature for this request.
      const url = new URL('https://apigw.example/m/v1/b?k3=v3&k1=v1&k2=v2');
      const body = '{\n  "count": 20,\n  "page": 1,\n  "desc": "描述"\n}';
      expect(paramsData(url, body)).toBe(`k1v1k2v2k3v3${body}`);
      expect(sha256Hex(`xxxxaaaxxxx${paramsData(url, body)}1572574909697xxxappSecretxxx`)).toBe('59828328f6c1f9771015dc74e4929ae30f518a35a3d2353972c2ea46556fc981');
    });

    it('gets one token and reuses it for later calls', async () => {
      const identities = provider();
      const before = count(PATHS.tokenGet);
      await identities.login('demo', 'demo-password');
      await identities.login('other', 'other-password');
      await identities.checkReady();
      expect(count(PATHS.tokenGet)).toBe(before + 1);
    });

    it('shares one token request between concurrent logins', async () => {
      const identities = provider();
      const before = count(PATHS.tokenGet);
      const identities5 = await Promise.all(['demo', 'other', 'demo', 'other', 'multi'].map((name) => identities.login(name, `${name}-password`)));
      expect(identities5.map((identity) => identity.userName)).toEqual(['demo', 'other', 'demo', 'other', 'multi']);
      expect(count(PATHS.tokenGet)).toBe(before + 1);
    });

    it('refreshes the token shortly before it expires', async () => {
      const identities = provider();
      await identities.login('demo', 'demo-password');
      const gets = count(PATHS.tokenGet);
      const refreshes = count(PATHS.tokenRefresh);
      clock.advanceSeconds(7200 - 120); // inside the refresh window, before expiry
      await identities.login('demo', 'demo-password');
      expect(count(PATHS.tokenRefresh)).toBe(refreshes + 1);
      expect(count(PATHS.tokenGet)).toBe(gets);
      clock.advanceSeconds(7200 + 60); // the refreshed token is over too: a fresh one is fetched
      await identities.login('demo', 'demo-password');
      expect(count(PATHS.tokenGet)).toBe(gets + 1);
    });

    it('fetches a new token once and retries when the gateway says the cached one expired', async () => {
      const identities = provider();
      await identities.login('demo', 'demo-password');
      const gets = count(PATHS.tokenGet);
      const logins = count(PATHS.login);
      standIn.revokeAppTokens();
      expect(await identities.login('demo', 'demo-password')).toMatchObject({ organizationId: 'demo-org' });
      expect(count(PATHS.tokenGet)).toBe(gets + 1);
      expect(count(PATHS.login)).toBe(logins + 2);
    });

    it('reports a wrong app secret as identity_unavailable, not as the user’s fault, and never reaches the login API', async () => {
      const logs: LogEntry[] = [];
      const logins = count(PATHS.login);
      const error = await rejection(provider({ appSecret: 'not-the-app-secret' }, logs).login('demo', 'demo-password'));
      expect(error).toMatchObject({ code: 'identity_unavailable', status: 503 });
      expect((error.cause as Error).message).toMatch(/refused the app credentials \(HTTP 200, status 1003/);
      expect(count(PATHS.login)).toBe(logins);
      expect(logs.map((entry) => entry.msg)).toContain('EnOS login could not be completed');
    });

    it('fails clearly without app credentials when the gateway demands them, and works when it does not', async () => {
      const error = await rejection(provider({ appKey: undefined, appSecret: undefined }).login('demo', 'demo-password'));
      expect(error).toMatchObject({ code: 'identity_unavailable' });
      expect((error.cause as Error).message).toMatch(/gateway refused .* APIM status 1202/);

      const open = await startEnosStandIn({ requireAppToken: false, clock: clock.now });
      try {
        const identity = await provider({ baseUrl: open.url, appKey: undefined, appSecret: undefined }).login('other', 'other-password');
        expect(identity.organizationId).toBe('other-org');
        expect(open.requestCount(PATHS.tokenGet)).toBe(0);
      } finally {
        await open.close();
      }
    });

    it('refuses half a credential pair at construction', () => {
      expect(() => provider({ appSecret: undefined })).toThrow(/appKey and appSecret go together/);
    });
  });

  describe('transient failures', () => {
    it('retries 503s and succeeds within maxRetries', async () => {
      const identities = provider();
      await identities.checkReady(); // token in hand, so only login calls are counted below
      const before = count(PATHS.login);
      standIn.faults.failNext(2, { status: 503, path: PATHS.login });
      expect(await identities.login('demo', 'demo-password')).toMatchObject({ userId: 'u-demo' });
      expect(count(PATHS.login)).toBe(before + 3);
    });

    it('gives up after maxRetries + 1 attempts with identity_unavailable', async () => {
      const identities = provider({ maxRetries: 2 });
      await identities.checkReady();
      const before = count(PATHS.login);
      standIn.faults.failNext(5, { status: 502, path: PATHS.login });
      try {
        const error = await rejection(identities.login('demo', 'demo-password'));
        expect(error).toMatchObject({ code: 'identity_unavailable', status: 503 });
        expect(error.cause).toBeInstanceOf(EnosUnreachableError);
        expect((error.cause as EnosUnreachableError).attempts).toBe(3);
        expect(count(PATHS.login)).toBe(before + 3);
      } finally {
        standIn.faults.reset();
      }
    });

    it('retries a dropped connection and a 429', async () => {
      const identities = provider();
      await identities.checkReady();
      const before = count(PATHS.login);
      standIn.faults.failNext(1, { mode: 'drop', path: PATHS.login });
      standIn.faults.failNext(1, { status: 429, path: PATHS.login });
      expect(await identities.login('other', 'other-password')).toMatchObject({ userId: 'u-other' });
      expect(count(PATHS.login)).toBe(before + 3);
    });

    it('retries a failing token service too', async () => {
      standIn.revokeAppTokens();
      standIn.faults.failNext(1, { status: 503, path: PATHS.tokenGet });
      const before = count(PATHS.tokenGet);
      expect(await provider().login('demo', 'demo-password')).toMatchObject({ userId: 'u-demo' });
      expect(count(PATHS.tokenGet)).toBe(before + 2);
    });

    it('does not retry a 4xx answer', async () => {
      const identities = provider();
      await identities.checkReady();
      const before = count(PATHS.login);
      standIn.faults.failNext(1, { status: 404, path: PATHS.login });
      expect(await rejection(identities.login('demo', 'demo-password'))).toMatchObject({ code: 'identity_unavailable' });
      expect(count(PATHS.login)).toBe(before + 1);
    });

    it('abandons an attempt after timeoutMs and counts it against maxRetries', async () => {
      const identities = provider({ timeoutMs: 300, maxRetries: 1 });
      await identities.checkReady();
      const before = count(PATHS.login);
      // Held far longer than the test may run: only the client's timeout can end these attempts.
      standIn.faults.delayNext(2, 600_000, { path: PATHS.login });
      try {
        const error = await rejection(identities.login('demo', 'demo-password'));
        expect(error).toMatchObject({ code: 'identity_unavailable' });
        const cause = error.cause as EnosUnreachableError;
        expect(cause.message).toMatch(/after 2 attempt\(s\): no answer within 300 ms/);
        expect((cause.cause as Error).name).toBe('TimeoutError');
        expect(count(PATHS.login)).toBe(before + 2);
      } finally {
        standIn.faults.reset();
      }
    });
  });

  describe('logout', () => {
    it('ends the EnOS session', async () => {
      const identities = provider();
      const identity = await identities.login('demo', 'demo-password');
      await identities.logout(identity);
      expect(standIn.activeSession(identity.enosSessionId)).toBe(false);
    });

    it('is best effort: an unknown session or an unreachable EnOS does not throw', async () => {
      await expect(provider().logout({ enosSessionId: 'IAM_S_unknown' })).resolves.toBeUndefined();
      const logs: LogEntry[] = [];
      standIn.faults.failNext(1, { status: 503, path: PATHS.logout });
      await expect(provider({}, logs).logout({ enosSessionId: 'IAM_S_whatever' })).resolves.toBeUndefined();
      expect(logs.map((entry) => entry.msg)).toContain('EnOS logout failed; the EnOS session will expire on its own');
    });
  });

  describe('checkReady', () => {
    it('passes against a working gateway', async () => {
      await expect(provider().checkReady()).resolves.toBeUndefined();
    });

    it('fails with not_ready when the app credentials are refused', async () => {
      expect(await rejection(provider({ appSecret: 'not-the-app-secret' }).checkReady())).toMatchObject({ code: 'not_ready', status: 503 });
      expect(await rejection(provider({ appKey: undefined, appSecret: undefined }).checkReady())).toMatchObject({ code: 'not_ready' });
    });

    it('fails with not_ready when nothing listens at the base URL', async () => {
      const gone = await startEnosStandIn({ clock: clock.now });
      await gone.close();
      const error = await rejection(provider({ baseUrl: gone.url }).checkReady());
      expect(error).toMatchObject({ code: 'not_ready' });
      expect((error.cause as Error).message).toMatch(/ECONNREFUSED/);
    });
  });

  describe('organizationAccounts (List Users)', () => {
    it("reads an organization's accounts and their states through the signed gateway, as a GET with the query signed", async () => {
      const before = count(PATHS.listUsers);
      const accounts = await provider().organizationAccounts('demo-org');
      expect(count(PATHS.listUsers)).toBe(before + 1);
      expect(accounts.get('u-demo')).toBe('active');
      expect(accounts.get('u-disabled')).toBe('disabled');
      // multi is resident in demo-org and a guest in other-org: listed in both.
      expect((await provider().organizationAccounts('other-org')).get('u-multi')).toBe('active');
      expect(accounts.has('u-other')).toBe(false);
    });

    it('fails with identity_unavailable when EnOS will not say (unknown organization, gateway refusal)', async () => {
      expect(await rejection(provider().organizationAccounts('no-such-org'))).toMatchObject({ code: 'identity_unavailable', status: 503 });
      expect(await rejection(provider({ appSecret: 'wrong-app-secret-value' }).organizationAccounts('demo-org'))).toMatchObject({ code: 'identity_unavailable' });
    });
  });

  it('never logs a password, the app secret, an app token or a session id', async () => {
    const logs: LogEntry[] = [];
    const identities = provider({ maxRetries: 1 }, logs);
    const identity = await identities.login('demo', 'demo-password');
    standIn.faults.failNext(1, { status: 503, path: PATHS.login });
    await identities.login('demo', 'demo-password');
    standIn.faults.failNext(2, { status: 503, path: PATHS.login });
    await rejection(identities.login('other', 'other-password'));
    await rejection(provider({ appSecret: 'wrong-app-secret-value' }, logs).login('demo', 'demo-password'));
    standIn.faults.failNext(1, { status: 503, path: PATHS.logout });
    await identities.logout(identity);

    expect(logs.length).toBeGreaterThanOrEqual(4);
    const written = JSON.stringify(logs);
    for (const secret of ['demo-password', 'other-password', app.appSecret, 'wrong-app-secret-value', 'APP_T_', 'IAM_S_']) {
      expect(written).not.toContain(secret);
    }
  });
});

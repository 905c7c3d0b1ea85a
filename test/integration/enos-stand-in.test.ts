import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReadyLine, startChildService } from '../../scripts/lib/child-service.js';
import { PATHS, startEnosStandIn, type EnosStandIn, type SeedInput } from '../../scripts/enos-stand-in/index.js';

// The stand-in over real HTTP, checked against the EnOS documentation: the token API, the gateway
// signature check, the IAM envelopes field by field, session expiry/refresh/logout, and the hooks.
// This file signs requests with its own few lines of code, independent of the connector's client.

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

class TestClock {
  constructor(private ms: number) {}
  readonly now = () => new Date(this.ms);
  advanceSeconds(seconds: number) {
    this.ms += seconds * 1000;
  }
  epochSeconds() {
    return Math.floor(this.ms / 1000);
  }
}

interface Json {
  [key: string]: unknown;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ httpStatus: number; json: Json }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { httpStatus: response.status, json: (await response.json()) as Json };
}

/** A minimal, independent APIM client: token/get plus signed IAM calls. */
function apimClient(standIn: EnosStandIn, clock: TestClock, app = standIn.apps[0]!) {
  let stamp = 0;
  const timestamp = () => clock.now().getTime() + ++stamp; // unique, so no duplicate `encryption`
  const tokenRequest = (secret = app.appSecret, appKey = app.appKey) => {
    const ts = timestamp();
    return { appKey, encryption: sha256(appKey + ts + secret), timestamp: ts };
  };
  let token: string | undefined;
  return {
    tokenRequest,
    async token(): Promise<string> {
      if (token === undefined) {
        const { json } = await post(`${standIn.url}${PATHS.tokenGet}`, tokenRequest());
        token = (json.data as { accessToken: string }).accessToken;
      }
      return token;
    },
    forgetToken() {
      token = undefined;
    },
    async iam(path: string, body: unknown, headers: Record<string, string> = {}) {
      const accessToken = await this.token();
      const text = body === undefined ? '' : JSON.stringify(body);
      const ts = String(timestamp());
      const response = await fetch(`${standIn.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'apim-accesstoken': accessToken,
          'apim-signature': sha256(accessToken + text + ts + app.appSecret),
          'apim-timestamp': ts,
          ...headers,
        },
        body: text === '' ? undefined : text,
      });
      return { httpStatus: response.status, json: (await response.json()) as Json };
    },
  };
}

describe('EnOS identity stand-in', () => {
  const clock = new TestClock(Date.parse('2030-03-01T08:00:00Z'));
  let standIn: EnosStandIn;
  let client: ReturnType<typeof apimClient>;

  beforeAll(async () => {
    standIn = await startEnosStandIn({ clock: clock.now });
    client = apimClient(standIn, clock);
  });
  afterAll(async () => {
    await standIn?.close();
  });

  const login = (principal: string, credentials: string, extra: object = {}) => client.iam(PATHS.login, { authType: 0, principal, credentials, ...extra });
  const sessionOf = (json: Json) => json.session as Json & { id: string; user: Json; workingOrganization: Json; residentOrganization: Json };

  it('answers /healthz', async () => {
    const response = await fetch(`${standIn.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  describe('APIM token API', () => {
    it('issues an access token in the documented envelope and returns the same one while it is valid', async () => {
      const first = await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest());
      expect(first.httpStatus).toBe(200);
      expect(first.json).toMatchObject({ status: 0, msg: 'SUCCESS', business: 'apim-token-service', data: { expire: 7200 } });
      const accessToken = (first.json.data as { accessToken: string }).accessToken;
      expect(accessToken).toMatch(/^APP_T_/);

      clock.advanceSeconds(60);
      const second = await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest());
      expect(second.json.data).toEqual({ accessToken, expire: 7140 });
    });

    it('refuses a wrong secret, an unknown appKey, a replayed encryption and a stale timestamp with the documented codes', async () => {
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest('not-the-secret'))).json).toMatchObject({ status: 1003, data: null });
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest(undefined, 'no-such-app'))).json).toMatchObject({ status: 1002 });
      const once = client.tokenRequest();
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, once)).json.status).toBe(0);
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, once)).json.status).toBe(1001);
      const app = standIn.apps[0]!;
      const stale = clock.now().getTime() - 60 * 60_000;
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, { appKey: app.appKey, encryption: sha256(app.appKey + stale + app.appSecret), timestamp: stale })).json.status).toBe(1004);
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, {})).json.status).toBe(1202);
    });

    it('refreshes a token into a new one and retires the old one', async () => {
      const old = await client.token();
      const refreshed = await post(`${standIn.url}${PATHS.tokenRefresh}`, { ...client.tokenRequest(), accessToken: old });
      expect(refreshed.json).toMatchObject({ status: 0, data: { expire: 7200 } });
      const fresh = (refreshed.json.data as { accessToken: string }).accessToken;
      expect(fresh).not.toBe(old);

      const withOld = await client.iam(PATHS.sessionInfo, undefined);
      expect(withOld).toMatchObject({ httpStatus: 401, json: { status: 1203 } });
      expect((await post(`${standIn.url}${PATHS.tokenRefresh}`, { ...client.tokenRequest(), accessToken: old })).json.status).toBe(1204);
      client.forgetToken();
    });
  });

  describe('gateway check in front of the IAM API', () => {
    it('refuses an IAM call without app-token headers', async () => {
      const { httpStatus, json } = await post(`${standIn.url}${PATHS.login}`, { authType: 0, principal: 'demo', credentials: 'demo-password' });
      expect(httpStatus).toBe(401);
      expect(json).toMatchObject({ status: 1202, data: null });
      expect(typeof json.requestId).toBe('string');
    });

    it('refuses a signature that does not cover the body that was sent', async () => {
      const accessToken = await client.token();
      const ts = String(clock.now().getTime());
      const signedBody = JSON.stringify({ authType: 0, principal: 'demo', credentials: 'demo-password' });
      const sentBody = JSON.stringify({ authType: 0, principal: 'other', credentials: 'other-password' });
      const response = await fetch(`${standIn.url}${PATHS.login}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'apim-accesstoken': accessToken, 'apim-timestamp': ts, 'apim-signature': sha256(accessToken + signedBody + ts + standIn.apps[0]!.appSecret) },
        body: sentBody,
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ status: 1003 });
    });

    it('refuses a token once its lifetime is over', async () => {
      client.forgetToken();
      await client.token();
      clock.advanceSeconds(7200);
      expect(await client.iam(PATHS.sessionInfo, undefined)).toMatchObject({ httpStatus: 401, json: { status: 1203 } });
      client.forgetToken();
    });
  });

  describe('IAM Log In', () => {
    it('returns the documented envelope, Session Struct and User Struct for demo', async () => {
      const { httpStatus, json } = await login('demo', 'demo-password');
      expect(httpStatus).toBe(200);
      expect(json).toMatchObject({ fail: false, success: true, failed: false, successful: true, status: 0, message: '', captcha: '' });
      expect(typeof json.requestId).toBe('string');
      const session = sessionOf(json);
      expect(session.id).toMatch(/^IAM_S_[A-Za-z0-9]{40,}$/);
      expect(session).toMatchObject({ expires: 7200, createTime: clock.epochSeconds(), refreshTime: clock.epochSeconds(), status: 1, ssoLogin: false });
      expect(session.user).toMatchObject({ id: 'u-demo', name: 'demo', organizationId: 'demo-org', authType: 0, type: 0, state: 0, email: 'demo@example.invalid', passwordState: 0 });
      expect(session.residentOrganization).toEqual({ id: 'demo-org', name: 'Demo Organization', domain: 'db_demo_org' });
      expect(session.workingOrganization).toEqual({ id: 'demo-org', name: 'Demo Organization', domain: 'db_demo_org' });
      expect(standIn.activeSession(session.id)).toBe(true);
    });

    it('puts other in other-org', async () => {
      const session = sessionOf((await login('other', 'other-password')).json);
      expect(session.user).toMatchObject({ id: 'u-other', name: 'other' });
      expect(session.workingOrganization).toMatchObject({ id: 'other-org' });
    });

    it('answers a wrong password and an unknown account identically (30400, HTTP 200)', async () => {
      const wrong = await login('demo', 'not-the-password');
      const unknown = await login('nobody', 'whatever');
      expect(wrong.httpStatus).toBe(200);
      expect(wrong.json).toMatchObject({ fail: true, success: false, failed: true, successful: false, status: 30400 });
      expect(wrong.json.session).toBeUndefined();
      const { requestId: _a, ...wrongRest } = wrong.json;
      const { requestId: _b, ...unknownRest } = unknown.json;
      expect(unknownRest).toEqual(wrongRest);
    });

    it('refuses the disabled account (30511) and the expired password (30410) only once the password is right', async () => {
      expect((await login('disabled', 'disabled-password')).json.status).toBe(30511);
      expect((await login('disabled', 'wrong')).json.status).toBe(30400);
      expect((await login('stale', 'stale-password')).json.status).toBe(30410);
    });

    it('answers LDAP logins with 30404 (no LDAP connection) and incomplete bodies with 30400', async () => {
      expect((await client.iam(PATHS.login, { authType: 1, linkName: 'corp', principal: 'demo', credentials: 'demo-password' })).json.status).toBe(30404);
      expect((await client.iam(PATHS.login, { authType: 0, principal: 'demo' })).json.status).toBe(30400);
    });

    it('clamps expireInterval to the documented [900, 864000]', async () => {
      expect(sessionOf((await login('demo', 'demo-password', { expireInterval: 60 })).json).expires).toBe(900);
      expect(sessionOf((await login('demo', 'demo-password', { expireInterval: 10_000_000 })).json).expires).toBe(864_000);
      expect(sessionOf((await login('demo', 'demo-password', { expireInterval: 3600 })).json).expires).toBe(3600);
    });

    it('gives the two-organization user its resident organization and lists both', async () => {
      const session = sessionOf((await login('multi', 'multi-password')).json);
      expect(session.workingOrganization).toMatchObject({ id: 'demo-org' });
      expect(session.user.guestOrganizations).toEqual([{ id: 'other-org', name: 'Other Organization', domain: 'db_other_org' }]);
      const list = await client.iam(PATHS.userOrganizations, { id: 'demo-org' }, { authorization: session.id });
      expect((list.json.organizations as Json[]).map((org) => org.id)).toEqual(['demo-org', 'other-org']);
    });
  });

  describe('sessions', () => {
    it('serves Get Session Information until the session expires, then 30404', async () => {
      const session = sessionOf((await login('demo', 'demo-password', { expireInterval: 900 })).json);
      const info = await client.iam(PATHS.sessionInfo, undefined, { authorization: session.id });
      expect(info.json).toMatchObject({ status: 0, session: { id: session.id, user: { id: 'u-demo' } } });
      expect((await client.iam(PATHS.sessionInfo, undefined, { authorization: `Bearer ${session.id}` })).json.status).toBe(0);
      expect((await client.iam(PATHS.sessionInfo, undefined)).json.status).toBe(30401);

      clock.advanceSeconds(899);
      expect((await client.iam(PATHS.sessionInfo, undefined, { authorization: session.id })).json.status).toBe(0);
      clock.advanceSeconds(1);
      expect((await client.iam(PATHS.sessionInfo, undefined, { authorization: session.id })).json).toMatchObject({ status: 30404, success: false });
      expect(standIn.activeSession(session.id)).toBe(false);
    });

    it('extends a session from the moment it is refreshed', async () => {
      const session = sessionOf((await login('demo', 'demo-password', { expireInterval: 900 })).json);
      clock.advanceSeconds(600);
      const refreshed = await client.iam(PATHS.sessionRefresh, undefined, { authorization: session.id });
      expect(refreshed.json).toMatchObject({ status: 0, session: { id: session.id, refreshTime: clock.epochSeconds(), createTime: session.createTime } });
      clock.advanceSeconds(600); // 1200 s after login, 600 s after the refresh
      expect((await client.iam(PATHS.sessionInfo, undefined, { authorization: session.id })).json.status).toBe(0);
      clock.advanceSeconds(300);
      expect((await client.iam(PATHS.sessionInfo, undefined, { authorization: session.id })).json.status).toBe(30404);
      expect((await client.iam(PATHS.sessionRefresh, undefined, { authorization: session.id })).json.status).toBe(30404);
    });

    it('ends a session at logout, and logging out twice is not an error', async () => {
      const session = sessionOf((await login('other', 'other-password')).json);
      expect((await client.iam(PATHS.logout, undefined, { authorization: session.id })).json).toMatchObject({ status: 0, success: true });
      expect((await client.iam(PATHS.sessionInfo, undefined, { authorization: session.id })).json.status).toBe(30404);
      expect((await client.iam(PATHS.logout, undefined, { authorization: session.id })).json.status).toBe(0);
    });
  });

  describe('fault hooks', () => {
    it('fails, drops and delays the next requests of one path, then serves normally', async () => {
      standIn.faults.failNext(2, { status: 503, path: PATHS.tokenGet });
      const before = standIn.requestCount(PATHS.tokenGet);
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest())).httpStatus).toBe(503);
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest())).httpStatus).toBe(503);
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest())).json.status).toBe(0);
      expect(standIn.requestCount(PATHS.tokenGet)).toBe(before + 3);

      standIn.faults.failNext(1, { mode: 'drop', path: PATHS.tokenGet });
      await expect(post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest())).rejects.toThrow(TypeError);

      // The HTTP control endpoint does the same for a stand-in running in another process.
      const control = await fetch(`${standIn.url}/_stand-in/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ failNext: 1, status: 429, path: PATHS.tokenGet }),
      });
      expect(control.status).toBe(204);
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest())).httpStatus).toBe(429);
      expect((await post(`${standIn.url}${PATHS.tokenGet}`, client.tokenRequest())).httpStatus).toBe(200);
    });
  });
});

describe('EnOS identity stand-in with an inline seed', () => {
  const seed: SeedInput = {
    policy: { requireAppToken: false, maxFailedLogins: 3, lockoutSeconds: 60 },
    organizations: [{ id: 'lab', name: 'Lab' }],
    users: [{ id: 'u-lab', name: 'lab', password: 'lab-password', organizationId: 'lab' }],
  };

  it('locks an account after repeated wrong passwords (30429) and unlocks it after the lockout', async () => {
    const clock = new TestClock(Date.parse('2030-03-01T08:00:00Z'));
    const standIn = await startEnosStandIn({ seed, clock: clock.now });
    try {
      const login = (credentials: string) => post(`${standIn.url}${PATHS.login}`, { authType: 0, principal: 'lab', credentials });
      for (let i = 0; i < 3; i += 1) expect((await login('wrong')).json.status).toBe(30400);
      expect((await login('lab-password')).json.status).toBe(30429);
      clock.advanceSeconds(60);
      expect((await login('lab-password')).json.status).toBe(0);
    } finally {
      await standIn.close();
    }
  });

  it('refuses a seed that refers to an organization it does not define', async () => {
    const bad: SeedInput = { ...seed, users: [{ id: 'u-x', name: 'x', password: 'p', organizationId: 'nowhere' }] };
    await expect(startEnosStandIn({ seed: bad })).rejects.toThrow(/user x refers to organization nowhere, which the seed does not define \(expected one of lab\)/);
  });
});

describe('EnOS identity stand-in CLI', () => {
  it('prints READY with its URL, serves, and exits cleanly on SIGTERM', async () => {
    const main = fileURLToPath(new URL('../../scripts/enos-stand-in/main.ts', import.meta.url));
    // Not tsxArgs(): on Node 20 its stdin-reading preload (exit-with-parent.cjs) deadlocks tsx's
    // loader before the script runs. stop() below still ends the child.
    const service = await startChildService({
      name: 'enos-stand-in',
      command: process.execPath,
      args: ['--import', 'tsx', main, '--port', '0', '--no-app-token'],
      readyWhen: (line) => parseReadyLine<{ url: string }>(line),
      timeoutMs: 30_000,
    });
    try {
      expect(service.ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${service.ready.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const { json } = await post(`${service.ready.url}${PATHS.login}`, { authType: 0, principal: 'demo', credentials: 'demo-password' });
      expect(json).toMatchObject({ status: 0, session: { workingOrganization: { id: 'demo-org' } } });
    } finally {
      await service.stop();
    }
    expect(service.child.exitCode).toBe(0);
  });
});

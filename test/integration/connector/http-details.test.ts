/**
 * The sign-in and HTTP details of issue 12, over real HTTP against the real connector and the
 * EnOS stand-in: throttling that slows a guesser without locking out the colleague whose account
 * is guessed, successes that cost a shared address nothing, their own messages for an expired
 * password and a disabled account, `Cache-Control: no-store`, a case-insensitive Bearer scheme,
 * 415 for a body that is not JSON, one limit on the length of SQL, and download URLs that name
 * the port the server really bound when PORT=0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_SQL_LENGTH } from '../../../app/src/sql-guard/guard.js';
import { startConnectorStack, useStandIns, type ConnectorStack } from '../../support/connector-stack.js';

const standIns = useStandIns(2_000);

/** Sign in from a given client address (TRUST_PROXY=loopback believes X-Forwarded-For from the test). */
const signInFrom = (stack: ConnectorStack, address: string, username: string, password: string) =>
  stack.api(undefined, 'POST', '/api/v1/sessions', { username, password }, { 'x-forwarded-for': address });

describe('sign-in throttling without lock-outs', () => {
  let stack: ConnectorStack;
  beforeAll(async () => {
    // Below the EnOS stand-in's own lockout (5 failures), so what is measured is the connector's.
    stack = await startConnectorStack({
      storage: 'blob',
      hive: standIns.hive,
      enos: standIns.enos,
      env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3', LOGIN_RATE_LIMIT_PER_IP: '4', LOGIN_RATE_WINDOW_SECONDS: '300' },
    });
  });
  afterAll(async () => stack?.stop());

  it('slows the client that guesses, and lets the colleague with the right password in from their own desk', async () => {
    for (let i = 0; i < 3; i++) {
      const guess = await signInFrom(stack, '203.0.113.7', 'demo', `guess-${i}`);
      // The first guess is refused by EnOS; later ones may be held by the growing back-off.
      expect([401, 429]).toContain(guess.status);
      if (guess.status === 429) break;
    }
    const guesserAgain = await signInFrom(stack, '203.0.113.7', 'demo', 'demo-password');
    expect(guesserAgain.status).toBe(429);
    expect(guesserAgain.json.error.code).toBe('rate_limited');
    expect(Number(guesserAgain.headers.get('retry-after'))).toBeGreaterThan(0);

    const colleague = await signInFrom(stack, '198.51.100.20', 'demo', 'demo-password');
    expect(colleague.status).toBe(201);
  });

  it('lets a first typo be retried at once, then doubles the wait after each failure instead of locking', async () => {
    expect((await signInFrom(stack, '203.0.113.8', 'other', 'wrong-1')).status).toBe(401);
    expect((await signInFrom(stack, '203.0.113.8', 'other', 'wrong-2')).status).toBe(401);
    const right = await signInFrom(stack, '203.0.113.8', 'other', 'other-password');
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await signInFrom(stack, '203.0.113.8', 'other', 'other-password')).status).toBe(201);
  });

  it('lets a whole team behind one address sign in as often as it likes: only failures use the address budget', async () => {
    for (let i = 0; i < 10; i++) {
      const user = i % 2 === 0 ? 'demo' : 'other';
      expect((await signInFrom(stack, '192.0.2.50', user, `${user}-password`)).status).toBe(201);
    }
    // The address still has its whole failure budget (4): a typo is a 401, not a 429.
    expect((await signInFrom(stack, '192.0.2.50', 'multi', 'typo')).status).toBe(401);
  });

  it('says when the password has expired or the account is disabled, and does not count either as a guess', async () => {
    for (let i = 0; i < 5; i++) {
      const stale = await signInFrom(stack, '192.0.2.60', 'stale', 'stale-password');
      expect(stale.status).toBe(403);
      expect(stale.json.error.code).toBe('password_expired');
      expect(stale.json.error.message).toMatch(/expired/i);
      const disabled = await signInFrom(stack, '192.0.2.60', 'disabled', 'disabled-password');
      expect(disabled.status).toBe(403);
      expect(disabled.json.error.code).toBe('account_disabled');
      expect(disabled.json.error.message).toMatch(/disabled/i);
    }
  });
});

describe('HTTP details', () => {
  let stack: ConnectorStack;
  let token: string;
  beforeAll(async () => {
    stack = await startConnectorStack({ storage: 'local', hive: standIns.hive, enos: standIns.enos, env: { PORT: '0' } });
    token = await stack.signIn('demo');
  });
  afterAll(async () => stack?.stop());

  it('marks answers carrying tokens and URLs (and every other API answer) Cache-Control: no-store', async () => {
    const signIn = await stack.api(undefined, 'POST', '/api/v1/sessions', { username: 'demo', password: 'demo-password' });
    expect(signIn.headers.get('cache-control')).toBe('no-store');
    const list = await stack.api(token, 'GET', '/api/v1/exports');
    expect(list.headers.get('cache-control')).toBe('no-store');
    const refused = await stack.api(undefined, 'GET', '/api/v1/exports');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('cache-control')).toBe('no-store');
  });

  it('reads the Bearer scheme case-insensitively', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const response = await stack.api(undefined, 'GET', '/api/v1/exports', undefined, { authorization: `${scheme} ${token}` });
      expect(response.status, scheme).toBe(200);
    }
    expect((await stack.api(undefined, 'GET', '/api/v1/exports', undefined, { authorization: `Basic ${token}` })).status).toBe(401);
  });

  it('answers 415 to a body that is not JSON, and creates nothing', async () => {
    const asText = await stack.api(token, 'POST', '/api/v1/exports', 'sql=SELECT 1', { 'content-type': 'text/plain' });
    expect(asText.status).toBe(415);
    expect(asText.json.error.code).toBe('unsupported_media_type');
    const asForm = await stack.api(undefined, 'POST', '/api/v1/sessions', 'username=demo&password=demo-password', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(asForm.status).toBe(415);
    expect((await stack.api(token, 'GET', '/api/v1/exports')).json.exports).toEqual([]);
    // No body at all (cancel, a bodiless link renewal) needs no Content-Type.
    const missing = await fetch(`${stack.url}/api/v1/exports/00000000-0000-4000-8000-000000000000/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(404);
  });

  it('has one limit on the length of SQL: the catalog says it, the API takes exactly that much, the guard agrees', async () => {
    const catalog = await stack.api(token, 'GET', '/api/v1/catalog');
    expect(catalog.json.maxSqlLength).toBe(DEFAULT_MAX_SQL_LENGTH);
    const head = 'SELECT asset_id FROM enos.asset LIMIT 1 -- ';
    const atLimit = head + 'x'.repeat(DEFAULT_MAX_SQL_LENGTH - head.length);
    const accepted = await stack.api(token, 'POST', '/api/v1/exports', { sql: atLimit });
    expect(accepted.status).toBe(202);
    await stack.waitFor(token, accepted.json.id);
    const tooLong = await stack.api(token, 'POST', '/api/v1/exports', { sql: `${atLimit}x` });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.message).toMatch(new RegExp(`sql: .*${DEFAULT_MAX_SQL_LENGTH}`));
  });

  it('builds download URLs on the port it bound when PORT=0', async () => {
    expect(stack.env.PORT).toBe('0');
    const { json } = await stack.api(token, 'POST', '/api/v1/exports', { sql: 'SELECT asset_id FROM enos.asset LIMIT 3' });
    const done = await stack.waitFor(token, json.id);
    expect(done.status).toBe('succeeded');
    const url = new URL(done.downloadUrl);
    expect(url.port).toBe(new URL(stack.url).port);
    expect(url.port).not.toBe('0');
    expect((await fetch(url)).status).toBe(200);
  });
});

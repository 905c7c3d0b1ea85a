/**
 * Login throttling under concurrency, over real HTTP against the EnOS stand-in: the per-account
 * limit must bound how many guesses reach EnOS even when they all arrive at once, and an attempt
 * EnOS could not decide (it was unavailable) must not spend the account's allowance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS, startEnosStandIn, type EnosStandIn } from '../../../scripts/enos-stand-in/index.js';
import type { HiveStandIn } from '../../../scripts/hive-stand-in/index.js';
import { startConnectorStack, startHiveForTests, type ConnectorStack } from '../../support/connector-stack.js';

let hive: HiveStandIn;
let enos: EnosStandIn;
let stack: ConnectorStack;
beforeAll(async () => {
  [hive, enos] = await Promise.all([startHiveForTests(100), startEnosStandIn()]);
  stack = await startConnectorStack({
    storage: 'blob',
    hive,
    enos,
    env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3', LOGIN_RATE_LIMIT_PER_IP: '1000', ENOS_MAX_RETRIES: '0' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await Promise.all([hive?.close(), enos?.close()]);
});

const signIn = (username: string, password: string) => stack.api(undefined, 'POST', '/api/v1/sessions', { username, password });

describe('sign-in throttling', () => {
  it('lets no more guesses reach EnOS than the per-account limit, however many arrive at once', async () => {
    // EnOS answers slowly, so every attempt is in flight before the first one is refused.
    enos.faults.delayNext(12, 300, { path: PATHS.login });
    const before = enos.requestCount(PATHS.login);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => signIn('multi', `guess-${i}`)));
    const statuses = answers.map((answer) => answer.status);
    expect(enos.requestCount(PATHS.login) - before).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(9);
    enos.faults.reset();
  });

  it('does not count attempts EnOS could not decide against the account', async () => {
    enos.faults.failNext(3, { status: 503, path: PATHS.login });
    for (let i = 0; i < 3; i++) expect((await signIn('demo', 'demo-password')).status).toBe(503);
    expect((await signIn('demo', 'demo-password')).status).toBe(201);
  });
});

/**
 * The EnOS identity adapter against a gateway that accepts connections and never answers, with
 * full garbage collections forced while each attempt's deadline is pending: a sign-in (with and
 * without the APIM app token in front of it) and the readiness probe fail as
 * `identity_unavailable` (the probe `not_ready`) once every attempt has run out of time, not later.
 */
import { describe, expect, it } from 'vitest';
import { createEnosIdentityProvider } from '../../../app/src/auth/enos-identity.js';
import { isAppError } from '../../../app/src/errors.js';
import { settleUnderGc } from '../../support/forced-gc.js';
import { withSilentServer } from '../../support/silent-server.js';

const DEADLINE_MS = 1_500;
const GIVE_UP_MS = 25_000;

const identitiesAt = (baseUrl: string, app?: { appKey: string; appSecret: string }) =>
  createEnosIdentityProvider({ baseUrl, timeoutMs: DEADLINE_MS, maxRetries: 1, ...(app ?? {}) });

async function expectUnavailableAfter(attempts: number, call: () => Promise<unknown>, code = 'identity_unavailable') {
  const settled = await settleUnderGc(call, { giveUpAfterMs: GIVE_UP_MS });
  expect(settled.outcome, `still pending ${GIVE_UP_MS} ms after ${attempts} attempts of ${DEADLINE_MS} ms`).toBe('rejected');
  expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === code);
  expect(String((settled.error as Error).cause)).toMatch(/no answer within 1500 ms/);
  expect(settled.elapsedMs).toBeGreaterThanOrEqual(attempts * DEADLINE_MS * 0.9);
}

describe('EnOS call deadlines under garbage collection', () => {
  it('fails a sign-in whose every attempt gets no answer', async () => {
    await withSilentServer(async (url) => {
      await expectUnavailableAfter(2, () => identitiesAt(url).login('demo', 'demo-password'));
    });
  });

  it('fails a sign-in whose app token request gets no answer', async () => {
    await withSilentServer(async (url) => {
      await expectUnavailableAfter(2, () => identitiesAt(url, { appKey: 'gc-app', appSecret: 'gc-secret' }).login('demo', 'demo-password'));
    });
  });

  it('answers the readiness probe with one attempt, not ready', async () => {
    await withSilentServer(async (url) => {
      await expectUnavailableAfter(1, () => identitiesAt(url).checkReady(), 'not_ready');
    });
  });
});

/**
 * The Table revocation list against Table endpoints that never answer, with full garbage
 * collections forced while each deadline is pending. Every authenticated request waits for a
 * revocation lookup, so a lookup without a working deadline would hold all of them: the table
 * check, the lookup and the sign-out each fail once their deadline passes, as `storage_error`.
 */
import { randomBytes } from 'node:crypto';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { createTableRevocationList } from '../../../app/src/auth/revocation-stores.js';
import { createSessionTokens } from '../../../app/src/auth/session-tokens.js';
import { isAppError } from '../../../app/src/errors.js';
import { settleUnderGc } from '../../support/forced-gc.js';
import { tableAlreadyExists, withPartlySilentServer, withSilentServer } from '../../support/silent-server.js';

const DEADLINE_MS = 1_500;
const GIVE_UP_MS = 20_000;
const user = { userId: 'u-1', userName: 'Demo User', organizationId: 'demo-org' };

const tokensAgainst = (url: string) => {
  const client = new TableClient(`${url}/devstoreaccount1`, 'revokedsessions', new AzureNamedKeyCredential('devstoreaccount1', randomBytes(32).toString('base64')), {
    allowInsecureConnection: true,
  });
  return createSessionTokens({ signingKey: randomBytes(32), ttlMinutes: 60, revocations: createTableRevocationList(client, () => new Date(), { timeoutMs: DEADLINE_MS }) });
};

async function expectStorageErrorWithinDeadline(call: () => Promise<unknown>) {
  const settled = await settleUnderGc(call, { giveUpAfterMs: GIVE_UP_MS });
  expect(settled.outcome, `still pending ${GIVE_UP_MS} ms after a ${DEADLINE_MS} ms deadline`).toBe('rejected');
  expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === 'storage_error' && error.status === 503);
  expect(settled.elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS * 0.9);
}

describe('table revocation deadlines under garbage collection', () => {
  it('fails a lookup whose table check never gets an answer', async () => {
    await withSilentServer(async (url) => {
      const tokens = tokensAgainst(url);
      const session = await tokens.issue(user);
      await expectStorageErrorWithinDeadline(() => tokens.verify(session.token));
    });
  });

  it('fails a lookup and a sign-out that never get an answer once the table is there', async () => {
    await withPartlySilentServer(tableAlreadyExists, async (url) => {
      const tokens = tokensAgainst(url);
      const session = await tokens.issue(user);
      await expectStorageErrorWithinDeadline(() => tokens.verify(session.token));
      await expectStorageErrorWithinDeadline(() => tokens.revoke({ ...user, tokenId: 'gc-token', expiresAt: new Date(Date.now() + 3_600_000) }));
    });
  });
});

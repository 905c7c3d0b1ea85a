/**
 * The Table access token store against Table endpoints that never answer, with full garbage
 * collections forced while each deadline is pending. Every request made with an access token
 * waits for its lookup (and its use being recorded), so each kind of call — the table check, the
 * lookup, a create, a recorded use, the owner's listing, a revoke (which starts with a listing) —
 * fails as `storage_error` once its deadline passes instead of holding those requests for good —
 * also when an SDK layer loses the abort signal, since the deadline settles the call by itself.
 */
import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { hashAccessToken, newAccessTokenSecret } from '../../../app/src/auth/access-token-secret.js';
import { createTableAccessTokenStore, type AccessTokenRecord, type AccessTokenStore } from '../../../app/src/auth/access-token-store.js';
import { expectAppErrorUnderGc } from '../../support/forced-gc.js';
import { silentTableClient, withSilentServer, withSilentTableStore } from '../../support/silent-server.js';

const DEADLINE_MS = 1_000;
const ownerId = 'owner-gc';

const record = (): AccessTokenRecord => ({
  id: randomUUID(),
  hash: hashAccessToken(newAccessTokenSecret()),
  ownerId,
  userId: 'u-gc',
  userName: 'gc',
  organizationId: 'demo-org',
  name: 'gc pipeline',
  createdAt: new Date(),
  expiresAt: new Date(Date.now() + 86_400_000),
});

/** The store on an endpoint that says the table exists and then never answers again. */
const withSilentTokenStore = (use: (store: AccessTokenStore) => Promise<void>, client: { losesAborts?: boolean } = {}) =>
  withSilentTableStore('accesstokens', (table) => createTableAccessTokenStore({ client: table, operationTimeoutMs: DEADLINE_MS }), use, client);

describe('table access token store deadlines under garbage collection', () => {
  it('fails a lookup whose table check never gets an answer', async () => {
    await withSilentServer(async (url) => {
      const store = createTableAccessTokenStore({ client: silentTableClient(url, 'accesstokens'), operationTimeoutMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.findByHash(record().hash), { code: 'storage_error', boundMs: DEADLINE_MS });
    });
  });

  it('fails a lookup, a create and a recorded use that never get an answer', async () => {
    await withSilentTokenStore(async (store) => {
      await expectAppErrorUnderGc(() => store.findByHash(record().hash), { code: 'storage_error', boundMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.create(record()), { code: 'storage_error', boundMs: DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.touch(record().hash, new Date()), { code: 'storage_error', boundMs: DEADLINE_MS });
    });
  });

  it("fails the owner's listing and a revoke within four call deadlines", async () => {
    await withSilentTokenStore(async (store) => {
      await expectAppErrorUnderGc(() => store.listByOwner(ownerId), { code: 'storage_error', boundMs: 4 * DEADLINE_MS });
      await expectAppErrorUnderGc(() => store.revoke(ownerId, randomUUID(), new Date()), { code: 'storage_error', boundMs: 4 * DEADLINE_MS });
    });
  });

  it('fails a lookup at its deadline even when the SDK loses the abort signal', async () => {
    await withSilentTokenStore((store) => expectAppErrorUnderGc(() => store.findByHash(record().hash), { code: 'storage_error', boundMs: DEADLINE_MS }), { losesAborts: true });
  });

  it("fails the owner's listing at its deadline even when the SDK loses the abort signal", async () => {
    await withSilentTokenStore((store) => expectAppErrorUnderGc(() => store.listByOwner(ownerId), { code: 'storage_error', boundMs: 4 * DEADLINE_MS }), { losesAborts: true });
  });
});

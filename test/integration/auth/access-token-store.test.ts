/**
 * The AccessTokenStore contract on both adapters: SQLite on a scratch file and Azure Table
 * Storage on the shared Azurite. Records round-trip, lookups are by hash only, lists are per
 * owner and newest first, a revoke happens once and only for the owner, uses are recorded.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { hashAccessToken, newAccessTokenSecret } from '../../../app/src/auth/access-token-secret.js';
import {
  createSqliteAccessTokenStore,
  createTableAccessTokenStore,
  type AccessTokenRecord,
  type AccessTokenStore,
} from '../../../app/src/auth/access-token-store.js';

const harnesses: Record<string, () => Promise<{ store: AccessTokenStore; dispose(): Promise<void> }>> = {
  SQLite: async () => {
    const store = createSqliteAccessTokenStore({ file: path.join(mkdtempSync(path.join(tmpdir(), 'tokens-')), 'jobs.sqlite') });
    return { store, dispose: () => store.close() };
  },
  'Azure Table Storage (Azurite)': async () => {
    const client = TableClient.fromConnectionString(inject('azurite').connectionString, `tokens${randomUUID().replaceAll('-', '').slice(0, 16)}`, {
      allowInsecureConnection: true,
    });
    return { store: createTableAccessTokenStore({ client }), dispose: () => client.deleteTable() };
  },
};

const T0 = new Date('2026-06-01T09:00:00.000Z');

function record(fields: Partial<AccessTokenRecord> = {}): AccessTokenRecord {
  return {
    id: randomUUID(),
    hash: hashAccessToken(newAccessTokenSecret()),
    ownerId: 'owner-a',
    userId: 'u-demo',
    userName: 'demo',
    organizationId: 'demo-org',
    name: 'nightly pipeline',
    createdAt: T0,
    expiresAt: new Date(T0.getTime() + 90 * 86_400_000),
    ...fields,
  };
}

for (const [name, open] of Object.entries(harnesses)) {
  describe(`AccessTokenStore contract: ${name}`, () => {
    let opened: Awaited<ReturnType<typeof open>>;
    beforeEach(async () => {
      opened = await open();
    });
    afterEach(async () => opened.dispose());

    it('finds a token by the hash of its secret, every field intact', async () => {
      const token = record();
      await opened.store.create(token);
      expect(await opened.store.findByHash(token.hash)).toEqual(token);
      expect(await opened.store.findByHash(hashAccessToken(newAccessTokenSecret()))).toBeUndefined();
    });

    it("lists one owner's tokens, newest first", async () => {
      const older = record();
      const newer = record({ createdAt: new Date(T0.getTime() + 1000), name: 'second' });
      const someoneElse = record({ ownerId: 'owner-b' });
      for (const token of [older, newer, someoneElse]) await opened.store.create(token);
      expect((await opened.store.listByOwner('owner-a')).map((t) => t.id)).toEqual([newer.id, older.id]);
      expect((await opened.store.listByOwner('owner-b')).map((t) => t.id)).toEqual([someoneElse.id]);
    });

    it("revokes a token once, and only for its owner", async () => {
      const token = record();
      await opened.store.create(token);
      const at = new Date(T0.getTime() + 5000);
      expect(await opened.store.revoke('owner-b', token.id, at)).toBeUndefined();
      expect((await opened.store.findByHash(token.hash))!.revokedAt).toBeUndefined();
      expect((await opened.store.revoke('owner-a', token.id, at))!.revokedAt).toEqual(at);
      expect(await opened.store.revoke('owner-a', token.id, at)).toBeUndefined();
      expect((await opened.store.findByHash(token.hash))!.revokedAt).toEqual(at);
    });

    it('records the last use', async () => {
      const token = record();
      await opened.store.create(token);
      const used = new Date(T0.getTime() + 60_000);
      await opened.store.touch(token.hash, used);
      expect((await opened.store.findByHash(token.hash))!.lastUsedAt).toEqual(used);
    });
  });
}

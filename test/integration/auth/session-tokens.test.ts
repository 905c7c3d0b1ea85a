import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createSqliteRevocationList, createTableRevocationList } from '../../../app/src/auth/revocation-stores.js';
import { createMemoryRevocationList, createSessionTokens, type RevocationList } from '../../../app/src/auth/session-tokens.js';
import { AppError } from '../../../app/src/errors.js';

const user = { userId: 'u-1', userName: 'Demo User', organizationId: 'demo-org' };

async function expectUnauthorized(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).status).toBe(401);
  expect((error as AppError).code).toBe('unauthorized');
}

/** Tables the Azurite runs created, deleted once the file is done. */
const tables: TableClient[] = [];
afterAll(async () => {
  await Promise.all(tables.map((table) => table.deleteTable()));
});

function azuriteTable(): TableClient {
  const table = TableClient.fromConnectionString(inject('azurite').connectionString, `rev${randomUUID().replaceAll('-', '')}`, { allowInsecureConnection: true });
  tables.push(table);
  return table;
}

const revocationLists: [string, () => RevocationList][] = [
  ['memory', () => createMemoryRevocationList()],
  ['sqlite', () => createSqliteRevocationList(path.join(mkdtempSync(path.join(tmpdir(), 'rev-')), 'jobs.sqlite'))],
  ['azure table (Azurite)', () => createTableRevocationList(azuriteTable())],
];

describe.each(revocationLists)('session tokens with %s revocations', (_name, makeList) => {
  const key = randomBytes(32);

  it('issues a token that verifies to the same user until it expires', async () => {
    let now = new Date('2026-11-27T10:00:00Z');
    const tokens = createSessionTokens({ signingKey: key, ttlMinutes: 60, revocations: makeList(), clock: () => now });
    const { token, session } = await tokens.issue(user);
    expect(session.expiresAt.toISOString()).toBe('2026-11-27T11:00:00.000Z');
    await expect(tokens.verify(token)).resolves.toMatchObject({ ...user, tokenId: session.tokenId });
    now = new Date('2026-11-27T11:00:01Z');
    await expectUnauthorized(tokens.verify(token));
  });

  it('refuses a token signed with another key, a tampered one and garbage', async () => {
    const tokens = createSessionTokens({ signingKey: key, ttlMinutes: 60, revocations: makeList() });
    const forger = createSessionTokens({ signingKey: randomBytes(32), ttlMinutes: 60, revocations: makeList() });
    const { token: forged } = await forger.issue(user);
    await expectUnauthorized(tokens.verify(forged));

    const { token } = await tokens.issue(user);
    // Checked once and remembered: its variants are still checked on their own.
    await expect(tokens.verify(token)).resolves.toMatchObject(user);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = Buffer.from(JSON.stringify({ ...claims, org: 'other-org' })).toString('base64url');
    await expectUnauthorized(tokens.verify(`${header}.${tampered}.${signature}`));
    await expectUnauthorized(tokens.verify(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`));
    await expectUnauthorized(tokens.verify('not-a-token'));
  });

  it('stops accepting a token at once when it is revoked, and only that token', async () => {
    const list = makeList();
    const tokens = createSessionTokens({ signingKey: key, ttlMinutes: 60, revocations: list });
    const first = await tokens.issue(user);
    const second = await tokens.issue(user);
    await tokens.revoke(first.session);
    await expectUnauthorized(tokens.verify(first.token));
    await expect(tokens.verify(second.token)).resolves.toMatchObject({ tokenId: second.session.tokenId });
  });
});

describe('sqlite revocations', () => {
  it('survive a restart of the connector', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rev-')), 'jobs.sqlite');
    const key = randomBytes(32);
    const before = createSqliteRevocationList(file);
    const tokens = createSessionTokens({ signingKey: key, ttlMinutes: 60, revocations: before });
    const { token, session } = await tokens.issue(user);
    await tokens.revoke(session);
    before.close();
    const after = createSessionTokens({ signingKey: key, ttlMinutes: 60, revocations: createSqliteRevocationList(file) });
    await expectUnauthorized(after.verify(token));
  });
});

describe('an unreachable revocation list', () => {
  it('answers 503 (try again), not a 500 and not a pass', async () => {
    const down: RevocationList = {
      revoke: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:10002')),
      isRevoked: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:10002')),
    };
    const tokens = createSessionTokens({ signingKey: randomBytes(32), ttlMinutes: 60, revocations: down });
    const { token, session } = await tokens.issue(user);
    for (const attempt of [() => tokens.verify(token), () => tokens.revoke(session)]) {
      const error = await attempt().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect({ code: (error as AppError).code, status: (error as AppError).status }).toEqual({ code: 'storage_error', status: 503 });
      expect((error as AppError).message).not.toMatch(/ECONNREFUSED|10002/);
    }
  });
});

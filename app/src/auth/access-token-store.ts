/**
 * Where personal access tokens are kept — as records, never as secrets: the SHA-256 of the
 * secret is the lookup key. Two adapters beside the jobs, as for the revocation list: SQLite for
 * one instance, Azure Table Storage (table `accesstokens`, PartitionKey `pat`, RowKey = the hash)
 * for several. Both pass test/integration/auth/access-token-store.test.ts.
 */
import { odata, RestError, type TableClient } from '@azure/data-tables';
import { deadlinePerCall } from '../deadline.js';
import { AppError } from '../errors.js';
import { migrateSchema, openSqliteFile, type SqliteSchema } from '../jobs/sqlite-migrations.js';
import { listWithin, tableCalls } from '../table-calls.js';

export interface AccessTokenRecord {
  /** Public id (UUID), for listing and revoking. */
  id: string;
  /** SHA-256 (hex) of the secret. */
  hash: string;
  ownerId: string;
  userId: string;
  userName: string;
  /** The organization the user was signed in with when the token was made; the token acts in it. */
  organizationId: string;
  name: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt?: Date;
  revokedAt?: Date;
}

export interface AccessTokenStore {
  create(record: AccessTokenRecord): Promise<void>;
  findByHash(hash: string): Promise<AccessTokenRecord | undefined>;
  /** Every token of the owner, newest first. */
  listByOwner(ownerId: string): Promise<AccessTokenRecord[]>;
  /** Marks the owner's token revoked; undefined when the owner has no such token or it was revoked already. */
  revoke(ownerId: string, id: string, at: Date): Promise<AccessTokenRecord | undefined>;
  /** Records a use; best effort, last writer wins. */
  touch(hash: string, at: Date): Promise<void>;
  close(): Promise<void>;
}

const failed = (cause: unknown) =>
  cause instanceof AppError ? cause : new AppError('storage_error', 503, 'Access tokens cannot be read or written right now.', { cause, retryAfterSeconds: 5 });

const SQLITE_SCHEMA: SqliteSchema = {
  ledger: 'access_tokens_schema_migrations',
  what: 'access token store',
  migrations: [
    {
      version: 1,
      description: 'access_tokens by hash',
      sql: `
        CREATE TABLE access_tokens (
          id              TEXT    NOT NULL PRIMARY KEY,
          hash            TEXT    NOT NULL UNIQUE,
          owner_id        TEXT    NOT NULL,
          user_id         TEXT    NOT NULL,
          user_name       TEXT    NOT NULL,
          organization_id TEXT    NOT NULL,
          name            TEXT    NOT NULL,
          created_at      INTEGER NOT NULL,
          expires_at      INTEGER NOT NULL,
          last_used_at    INTEGER,
          revoked_at      INTEGER
        ) STRICT;
        CREATE INDEX access_tokens_owner ON access_tokens (owner_id, created_at);
      `,
    },
  ],
};

interface TokenRow {
  id: string;
  hash: string;
  owner_id: string;
  user_id: string;
  user_name: string;
  organization_id: string;
  name: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

function fromRow(row: TokenRow): AccessTokenRecord {
  const record: AccessTokenRecord = {
    id: row.id,
    hash: row.hash,
    ownerId: row.owner_id,
    userId: row.user_id,
    userName: row.user_name,
    organizationId: row.organization_id,
    name: row.name,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
  };
  if (row.last_used_at !== null) record.lastUsedAt = new Date(row.last_used_at);
  if (row.revoked_at !== null) record.revokedAt = new Date(row.revoked_at);
  return record;
}

export function createSqliteAccessTokenStore(options: { file: string }): AccessTokenStore {
  const db = openSqliteFile(options.file);
  try {
    migrateSchema(db, SQLITE_SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }
  const insert = db.prepare(`
    INSERT INTO access_tokens (id, hash, owner_id, user_id, user_name, organization_id, name, created_at, expires_at)
    VALUES (@id, @hash, @ownerId, @userId, @userName, @organizationId, @name, @createdAt, @expiresAt)`);
  const byHash = db.prepare<[string], TokenRow>('SELECT * FROM access_tokens WHERE hash = ?');
  const byOwner = db.prepare<[string], TokenRow>('SELECT * FROM access_tokens WHERE owner_id = ? ORDER BY created_at DESC, id DESC');
  const revoke = db.prepare<[number, string, string], TokenRow>(
    'UPDATE access_tokens SET revoked_at = ? WHERE owner_id = ? AND id = ? AND revoked_at IS NULL RETURNING *',
  );
  const touch = db.prepare<[number, string]>('UPDATE access_tokens SET last_used_at = ? WHERE hash = ?');
  const guarded = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(failed(error));
    }
  };
  return {
    create: (record) =>
      guarded(() => {
        insert.run({ ...record, createdAt: record.createdAt.getTime(), expiresAt: record.expiresAt.getTime() });
      }),
    findByHash: (hash) =>
      guarded(() => {
        const row = byHash.get(hash);
        return row && fromRow(row);
      }),
    listByOwner: (ownerId) => guarded(() => byOwner.all(ownerId).map(fromRow)),
    revoke: (ownerId, id, at) =>
      guarded(() => {
        const row = revoke.get(at.getTime(), ownerId, id);
        return row && fromRow(row);
      }),
    touch: (hash, at) =>
      guarded(() => {
        touch.run(at.getTime(), hash);
      }),
    async close() {
      db.close();
    },
  };
}

const PARTITION = 'pat';
export const DEFAULT_ACCESS_TOKENS_TABLE = 'accesstokens';

function fromEntity(entity: Record<string, unknown>): AccessTokenRecord {
  const date = (name: string) => (entity[name] instanceof Date ? (entity[name] as Date) : new Date(String(entity[name])));
  const record: AccessTokenRecord = {
    id: String(entity.tokenId),
    hash: String(entity.rowKey),
    ownerId: String(entity.ownerId),
    userId: String(entity.userId),
    userName: String(entity.userName),
    organizationId: String(entity.organizationId),
    name: String(entity.name),
    createdAt: date('createdAt'),
    expiresAt: date('expiresAt'),
  };
  if (entity.lastUsedAt !== undefined) record.lastUsedAt = date('lastUsedAt');
  if (entity.revokedAt !== undefined) record.revokedAt = date('revokedAt');
  return record;
}

export interface TableAccessTokenStoreOptions {
  client: TableClient;
  /**
   * Deadline of each Table call (the SDK sets none); a listing gets four times as long for all its
   * pages. Every request made with an access token waits for its lookup. @default 10000
   */
  operationTimeoutMs?: number;
}

export function createTableAccessTokenStore(options: TableAccessTokenStoreOptions): AccessTokenStore {
  const { client } = options;
  const timeoutMs = options.operationTimeoutMs ?? 10_000;
  /** One Table call under a deadline of its own: a timer the store owns and clears (deadline.ts says why). */
  const timed = deadlinePerCall(timeoutMs);
  const { guarded } = tableCalls(client, timed, failed);
  /** A listing, all its pages, under one deadline four calls long. */
  const list = (filter: string) => listWithin(client, timeoutMs * 4, { filter }, fromEntity);
  return {
    create: (record) =>
      guarded(async () => {
        const { hash, id, ...rest } = record;
        await timed((options) => client.createEntity({ partitionKey: PARTITION, rowKey: hash, tokenId: id, ...rest }, options));
      }),
    findByHash: (hash) =>
      guarded(async () => {
        try {
          return fromEntity(await timed((options) => client.getEntity<Record<string, unknown>>(PARTITION, hash, options)));
        } catch (error) {
          if (error instanceof RestError && error.statusCode === 404) return undefined;
          throw error;
        }
      }),
    listByOwner: (ownerId) =>
      guarded(async () => (await list(odata`PartitionKey eq ${PARTITION} and ownerId eq ${ownerId}`)).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id))),
    revoke: (ownerId, id, at) =>
      guarded(async () => {
        const [found] = await list(odata`PartitionKey eq ${PARTITION} and ownerId eq ${ownerId} and tokenId eq ${id}`);
        if (!found || found.revokedAt) return undefined;
        const current = await timed((options) => client.getEntity<Record<string, unknown>>(PARTITION, found.hash, options));
        if (current.revokedAt !== undefined) return undefined;
        try {
          // Guarded by the ETag: a token revoked meanwhile by another instance is not revoked twice.
          await timed((options) => client.updateEntity({ partitionKey: PARTITION, rowKey: found.hash, revokedAt: at }, 'Merge', { etag: current.etag, ...options }));
        } catch (error) {
          if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 404)) return undefined;
          throw error;
        }
        return { ...found, revokedAt: at };
      }),
    touch: (hash, at) =>
      guarded(async () => {
        await timed((options) => client.updateEntity({ partitionKey: PARTITION, rowKey: hash, lastUsedAt: at }, 'Merge', options));
      }),
    async close() {},
  };
}

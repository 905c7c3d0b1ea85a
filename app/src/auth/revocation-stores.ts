/**
 * Durable revocation lists for session tokens, kept next to the jobs: SQLite when the connector
 * runs alone (survives a restart, so a logged-out token does not come back to life), Azure Table
 * Storage when several instances must agree. An entry matters only until the token would have
 * expired anyway: lookups ignore older ones, SQLite prunes them on each revoke, and the Table
 * keeps them (one small row per sign-out, only ever read by key).
 */
import Database from 'better-sqlite3';
import { RestError, type TableClient } from '@azure/data-tables';
import { deadlinePerCall } from '../deadline.js';
import type { RevocationList } from './session-tokens.js';
import { tableCalls } from '../table-calls.js';

export function createSqliteRevocationList(file: string, clock: () => Date = () => new Date()): RevocationList & { close(): void } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS revoked_tokens (token_id TEXT PRIMARY KEY, until_ms INTEGER NOT NULL)');
  const insert = db.prepare('INSERT OR REPLACE INTO revoked_tokens (token_id, until_ms) VALUES (?, ?)');
  const prune = db.prepare('DELETE FROM revoked_tokens WHERE until_ms < ?');
  const lookup = db.prepare<[string, number], { found: number }>('SELECT 1 AS found FROM revoked_tokens WHERE token_id = ? AND until_ms >= ?');
  return {
    async revoke(tokenId, until) {
      prune.run(clock().getTime());
      insert.run(tokenId, until.getTime());
    },
    async isRevoked(tokenId) {
      return lookup.get(tokenId, clock().getTime()) !== undefined;
    },
    close: () => db.close(),
  };
}

const PARTITION = 'revoked';
/** The Table the revocation list lives in beside the jobs table; the infrastructure creates it. */
export const REVOCATIONS_TABLE = 'revokedsessions';

/**
 * @param options.timeoutMs deadline of each Table call. Every authenticated request waits for a
 * lookup, and the SDK sets no client-side timeout, so an endpoint that stops answering would hold
 * them all. @default 10 s
 */
export function createTableRevocationList(client: TableClient, clock: () => Date = () => new Date(), options: { timeoutMs?: number } = {}): RevocationList {
  const timed = deadlinePerCall(options.timeoutMs ?? 10_000);
  // Errors pass through as the SDK threw them: the session check decides what they mean.
  const { guarded } = tableCalls(client, timed, (error) => (error instanceof Error ? error : new Error(String(error))));
  return {
    revoke: (tokenId, until) =>
      guarded(async () => {
        await timed((deadline) => client.upsertEntity({ partitionKey: PARTITION, rowKey: tokenId, untilMs: until.getTime() }, 'Replace', deadline));
      }),
    isRevoked: (tokenId) =>
      guarded(async () => {
        try {
          const entity = await timed((deadline) => client.getEntity<{ untilMs: number }>(PARTITION, tokenId, deadline));
          return Number(entity.untilMs) >= clock().getTime();
        } catch (error) {
          if (error instanceof RestError && error.statusCode === 404) return false;
          throw error;
        }
      }),
  };
}

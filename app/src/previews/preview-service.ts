/**
 * Previews: the first rows of a query, answered while the caller waits, so a wrong column name or
 * a type surprise shows up before an export is queued. A preview goes through the very guard and
 * authorization an export does, is an audit event (`preview.run`, recorded before Hive sees the
 * query: no record, no data), and is rate-limited per user. It never creates a job or a file.
 *
 * How it asks Hive for little: the user's SQL is sent unchanged (never rewritten with a LIMIT),
 * with the fetch size set to one row more than asked; the first row set is all that is read (that
 * extra row says whether more existed), then the operation is closed, which ends the query on the
 * cluster. The whole preview has a deadline: past it the Hive operation is cancelled and the
 * answer is 504 `preview_timeout`, whatever Hive is still doing.
 */
import { randomUUID } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { actorFields, type AuditTrail } from '../audit/audit-trail.js';
import { noteGuardRefusal } from '../audit/refusals.js';
import { actorOf, ownerIdOf, type Principal } from '../auth/principal.js';
import type { SessionUser } from '../auth/session-tokens.js';
import { withDeadline } from '../deadline.js';
import { AppError } from '../errors.js';
import { hiveErrorPosition, type HiveErrorPosition } from '../hive/hive-error-text.js';
import type { QueryRunner } from '../hive/query-runner.js';
import { decodeWireRowSet } from '../hive/rowset-decoder.js';
import type { Logger } from '../logger.js';
import { positionAt, type SqlPosition } from '../sql-guard/rejection.js';
import { inSpan } from '../telemetry/instruments.js';
import { previewRows, type PreviewValue } from './preview-values.js';

export const DEFAULT_PREVIEW_ROWS = 20;
export const MAX_PREVIEW_ROWS = 100;

export interface PreviewPolicy {
  /** The most a preview may take, Hive included. */
  timeoutMs: number;
  /** Previews one user may start per minute (per instance). */
  ratePerMinute: number;
  /** Previews one user may have running at once (per instance). */
  maxConcurrentPerUser: number;
}

export interface PreviewRequest {
  sql: string;
  /** 1..MAX_PREVIEW_ROWS. @default DEFAULT_PREVIEW_ROWS */
  rows?: number;
}

export interface PreviewResult {
  schema: { name: string; type: string; nullable: boolean }[];
  rows: PreviewValue[][];
  /** More rows existed than were asked for. */
  truncated: boolean;
}

/**
 * Where Hive's error position is in the caller's text. Hive counts in the statement it was sent,
 * which the guard made by trimming the caller's text at both ends (and dropping a trailing `;` and
 * comments): the sent text starts `lead` characters into the caller's.
 */
export function callerPosition(callerSql: string, sentSql: string, at: HiveErrorPosition): SqlPosition | undefined {
  const lead = callerSql.length - callerSql.trimStart().length;
  if (!callerSql.startsWith(sentSql, lead)) return undefined;
  let lineStart = 0;
  for (let line = 1; line < at.line; line++) {
    const newline = sentSql.indexOf('\n', lineStart);
    if (newline < 0) return undefined;
    lineStart = newline + 1;
  }
  const offset = Math.min(lineStart + at.charPositionInLine, sentSql.length);
  return positionAt(callerSql, lead + offset);
}

export class PreviewService {
  private readonly limiter: RateLimiterMemory;
  private readonly running = new Map<string, number>();

  constructor(
    private readonly deps: {
      runner: QueryRunner;
      /** The export guard: throws its AppError for anything but an allowed SELECT; names the tables it reads. */
      guard: (sql: string, user: SessionUser) => { sql: string; tables?: string[] };
      policy: PreviewPolicy;
      logger: Logger;
      audit?: AuditTrail;
    },
  ) {
    this.limiter = new RateLimiterMemory({ keyPrefix: 'preview', points: deps.policy.ratePerMinute, duration: 60 });
  }

  /** Runs the preview; `signal` ends it early (the caller went away), rejecting with its reason. */
  async run(user: Principal, request: PreviewRequest, signal?: AbortSignal): Promise<PreviewResult> {
    const rows = request.rows ?? DEFAULT_PREVIEW_ROWS;
    const ownerId = ownerIdOf(user);
    await this.limiter.consume(ownerId).catch((rejection: unknown) => {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new AppError('rate_limited', 429, `You started more than ${this.deps.policy.ratePerMinute} previews in a minute; wait a little`, {
        retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
      });
    });
    const mine = this.running.get(ownerId) ?? 0;
    if (mine >= this.deps.policy.maxConcurrentPerUser) {
      throw new AppError('rate_limited', 429, `You already have ${mine} previews running; wait for one to finish`, { retryAfterSeconds: 5 });
    }

    let guarded: { sql: string; tables?: string[] };
    try {
      guarded = this.deps.guard(request.sql, user);
    } catch (error) {
      await noteGuardRefusal(this.deps.audit, actorOf(user), request.sql, error);
      throw error;
    }
    const id = randomUUID();
    await this.deps.audit?.record({
      type: 'preview.run',
      ...actorFields(actorOf(user)),
      sql: guarded.sql,
      ...(guarded.tables ? { tables: guarded.tables } : {}),
      detail: `preview ${id}, rows=${rows}`,
    });

    this.running.set(ownerId, mine + 1);
    try {
      const result = await inSpan('preview.run', { 'enos.organization': user.organizationId, 'preview.rows': rows }, () =>
        // The answer comes at the deadline even while the runner is still cancelling on Hive.
        withDeadline(this.deps.policy.timeoutMs, (deadline) => this.fetchFirstRows(id, user, guarded.sql, rows, deadline), {
          ...(signal ? { parent: signal } : {}),
          reason: () =>
            new AppError(
              'preview_timeout',
              504,
              `The preview did not finish within ${Math.round(this.deps.policy.timeoutMs / 1000)} s and was cancelled on Hive; narrow the query (a filter on a partition column helps) or export it instead`,
            ),
        }),
      );
      this.deps.logger.info({ previewId: id, org: user.organizationId, rows: result.rows.length, truncated: result.truncated }, 'preview answered');
      return result;
    } catch (error) {
      throw this.withPosition(error, request.sql, guarded.sql);
    } finally {
      const left = (this.running.get(ownerId) ?? 1) - 1;
      if (left > 0) this.running.set(ownerId, left);
      else this.running.delete(ownerId);
    }
  }

  private async fetchFirstRows(id: string, user: SessionUser, sql: string, rows: number, signal: AbortSignal): Promise<PreviewResult> {
    const query = await this.deps.runner.start(sql, {
      signal,
      identity: { exportId: id, userName: user.userName, purpose: 'preview' },
      timeLimitMs: this.deps.policy.timeoutMs,
      fetchSize: rows + 1,
      readAhead: false,
    });
    try {
      const schema = query.columns.map(({ name, type, nullable }) => ({ name, type, nullable }));
      for await (const rowSet of query.rowSets()) {
        const batch = decodeWireRowSet(rowSet, query.columns.length);
        return { schema, rows: previewRows(query.columns, batch, rows), truncated: batch.rowCount > rows };
      }
      return { schema, rows: [], truncated: false };
    } finally {
      await query.close();
    }
  }

  /** Hive's compile error with where it is in the caller's text, as the guard's 400s carry it. */
  private withPosition(error: unknown, callerSql: string, sentSql: string): unknown {
    if (!(error instanceof AppError) || error.code !== 'hive_error' || error.details?.position) return error;
    const at = hiveErrorPosition(error.message);
    const position = at && callerPosition(callerSql, sentSql, at);
    if (!position) return error;
    return new AppError(error.code, error.status, error.message, { cause: error.cause, details: { ...error.details, position } });
  }
}

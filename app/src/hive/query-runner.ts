/**
 * Runs one guarded SELECT on HiveServer2 and streams its columnar row sets. The statement runs
 * asynchronously; status is polled at the configured interval (hive-driver's own waitUntilReady
 * polls with no delay at all), with Hive's in-place progress (PENDING, then vertex progress while
 * RUNNING) handed to the caller. Cancellation — the job's, the query timeout's, or the caller
 * going away — cancels the operation on the server, so a cancelled export stops using the
 * cluster; Hive is also told the time limit, a call's length later than ours
 * (TExecuteStatementReq.queryTimeout), so the query ends there even if the connector dies. Driver errors become AppErrors whose message a user can
 * read; details go to the log.
 *
 * Deadlines: every call has the per-call timeout, except the first FetchResults, which may be
 * the whole scan (a query Hive turns into a fetch task is FINISHED at once and reads its files
 * during that call): it gets what is left of the query's time limit.
 */
import hive from 'hive-driver';
import type { HiveConfig } from '../config/config.js';
import { startDeadline } from '../deadline.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { readableHiveError } from './hive-error-text.js';
import { checkHiveReady, openHiveConnection, type HiveConnection } from './hive-connection.js';
import { resultColumns, type ResultColumn } from './result-schema.js';
import type { WireRowSet } from './column-batch.js';
import { installFastFetch } from './fast-fetch.js';
import type { ThriftTableSchema } from './row-set.js';
import { QUERY_LABELS, parseServerVersion, refusedSetting, sessionConfiguration, type QueryIdentity, type ServerVersion } from './session-settings.js';

const { TCLIService_types } = hive.thrift;
const STATE = TCLIService_types.TOperationState as Record<string, number>;
const FETCH_NEXT = TCLIService_types.TFetchOrientation.FETCH_NEXT as number;
const JOB_IN_PROGRESS = TCLIService_types.TJobExecutionStatus.IN_PROGRESS as number;
const JOB_COMPLETE = TCLIService_types.TJobExecutionStatus.COMPLETE as number;

type HiveOperation = Awaited<ReturnType<HiveConnection['session']['executeStatement']>>;

/** Where the query is on the cluster, as GetOperationStatus tells it. */
export interface HiveStatus {
  /** `pending`: accepted, waiting for the cluster; `running`: compiling or executing. */
  stage: 'pending' | 'running';
  /** 0–100 from Hive's in-place progress, when the engine reports it (Tez does). */
  percent?: number;
  /** Hive's own one-line summary, e.g. `VERTICES: 01/02 [==>>--] 50% ELAPSED TIME: 3.21 s`. */
  summary?: string;
}

export interface RunningQuery {
  /** The result's columns, named and typed as users see them (see result-schema.ts). */
  columns: ResultColumn[];
  /**
   * Row sets in order as they arrived (decoded where they are encoded), each non-empty and of the
   * schema's width; ends when Hive has no more rows.
   */
  rowSets(): AsyncGenerator<WireRowSet>;
  /** Cancels on the server if still running, closes the operation and the session. */
  close(): Promise<void>;
}

export interface StartOptions {
  signal: AbortSignal;
  /** The export and its user, told to the cluster (hive.query.name / tag, impersonation). */
  identity?: QueryIdentity;
  /** Each change of the query's stage or progress while Hive runs it. */
  onHiveStatus?: (status: HiveStatus) => void;
  /**
   * The most the whole run may take; Hive is told a call's length more (queryTimeout), so ours
   * ends it first. @default HIVE_QUERY_TIMEOUT_MINUTES
   */
  timeLimitMs?: number;
  /** Rows per FetchResults (a preview asks for one more than it shows). @default HIVE_FETCH_SIZE */
  fetchSize?: number;
  /**
   * Ask for the next row set before handing one out, so Hive prepares it while the caller works.
   * Off for a caller that reads one row set and stops: then no FetchResults is left in flight and
   * close() can close the operation rather than drop the connection. @default true
   */
  readAhead?: boolean;
}

export interface QueryRunner {
  /** Resolves once the query has FINISHED on the server and its schema is known. */
  start(sql: string, options: StartOptions): Promise<RunningQuery>;
}

function toAppError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error;
  const message = (error as { message?: string } | undefined)?.message;
  if ((error as { name?: string } | undefined)?.name === 'Status Error') {
    return new AppError('hive_error', 422, readableHiveError(message), { cause: error });
  }
  return new AppError('hive_unavailable', 503, `Hive failed during ${what}`, { cause: error });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

interface ProgressUpdate {
  progressedPercentage?: number | null;
  status?: number | null;
  footerSummary?: string | null;
}

function statusOf(state: number, progress: ProgressUpdate | null | undefined): HiveStatus {
  if (state === STATE.PENDING_STATE || state === STATE.INITIALIZED_STATE) return { stage: 'pending' };
  const reported = progress && (progress.status === JOB_IN_PROGRESS || progress.status === JOB_COMPLETE);
  if (!reported) return { stage: 'running' };
  const percent = Math.max(0, Math.min(100, Math.round((progress.progressedPercentage ?? 0) * 100)));
  const summary = progress.footerSummary?.replace(/\s+/g, ' ').trim();
  return { stage: 'running', percent, ...(summary ? { summary } : {}) };
}

const sameStatus = (a: HiveStatus | undefined, b: HiveStatus) => a?.stage === b.stage && a.percent === b.percent && a.summary === b.summary;

/**
 * Polls an operation until it has FINISHED, at a sane interval (hive-driver's own
 * waitUntilReady polls with no delay at all). Hive's ERROR, CANCELED and TIMEDOUT states become
 * readable AppErrors; `signal` ends the wait with `abortError()`.
 */
export async function waitForOperation(
  connection: HiveConnection,
  operation: HiveOperation,
  options: { pollIntervalMs: number; signal: AbortSignal; abortError: () => AppError; onStatus?: (status: HiveStatus) => void },
): Promise<void> {
  const { signal, abortError } = options;
  let last: HiveStatus | undefined;
  for (;;) {
    if (signal.aborted) throw abortError();
    const wantProgress = options.onStatus !== undefined;
    const status = await connection.call('GetOperationStatus', () => operation.status(wantProgress)).catch((error: unknown) => {
      throw toAppError(error, 'GetOperationStatus');
    });
    const state = status.operationState;
    if (state === STATE.FINISHED_STATE) break;
    if (state === STATE.ERROR_STATE) {
      throw new AppError('hive_error', 422, readableHiveError(status.errorMessage), { cause: status });
    }
    if (state === STATE.CANCELED_STATE || state === STATE.CLOSED_STATE) throw signal.aborted ? abortError() : new AppError('hive_error', 422, 'Hive cancelled the query');
    if (state === STATE.TIMEDOUT_STATE) {
      throw new AppError('hive_error', 422, 'Hive stopped the query at its time limit (the cluster\'s hive.query.timeout.seconds or the export\'s limit)');
    }
    if (options.onStatus) {
      const current = statusOf(state ?? STATE.RUNNING_STATE!, status.progressUpdateResponse as ProgressUpdate | undefined);
      if (!sameStatus(last, current)) options.onStatus(current);
      last = current;
    }
    await sleep(options.pollIntervalMs, signal);
  }
}

/** Formats the limit as users read it: `90 s`, `2 min`. */
const limitText = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`);

export function createQueryRunner(config: HiveConfig, logger: Logger): QueryRunner {
  // Which session settings a cluster accepts depends on its version: asked once, then remembered.
  let version: Promise<ServerVersion | undefined> | undefined = config.serverVersion ? Promise.resolve(parseServerVersion(config.serverVersion)) : undefined;
  const serverVersion = (): Promise<ServerVersion | undefined> => {
    version ??= checkHiveReady(config).then(
      (text) => {
        const parsed = parseServerVersion(text);
        logger.info({ hiveVersion: text }, 'HiveServer2 version');
        return parsed;
      },
      (error: unknown) => {
        version = undefined; // ask again next time
        throw error;
      },
    );
    return version;
  };

  // Whether the cluster lets sessions carry query labels; learnt from a refusal, then kept.
  let labels = true;
  const openSession = async (identity: QueryIdentity | undefined): Promise<HiveConnection> => {
    const version = identity ? await serverVersion() : undefined;
    try {
      return await openHiveConnection(config, sessionConfiguration(config, version, identity, { labels }));
    } catch (error) {
      const refused = error instanceof AppError ? refusedSetting(error.message) : undefined;
      if (!identity || !labels || !refused || !(QUERY_LABELS as readonly string[]).includes(refused)) throw error;
      labels = false;
      logger.warn({ setting: refused }, 'Hive refuses query labels in sessions (e.g. SQL-standard authorization); exports run unlabelled');
      return openHiveConnection(config, sessionConfiguration(config, version, identity, { labels }));
    }
  };

  return {
    async start(sql, { signal, identity, onHiveStatus, timeLimitMs = config.queryTimeoutMs, fetchSize = config.fetchSize, readAhead = true }) {
      const startedAt = Date.now();
      // A timer of our own, cleared on close: an AbortSignal.timeout inside AbortSignal.any can be
      // garbage-collected before it fires (nodejs/node#57736).
      const deadline = startDeadline(timeLimitMs, { parent: signal });
      const abort = deadline.signal;
      const limit = limitText(timeLimitMs);
      // The limit covers the whole run: while Hive computes, and while its rows are fetched.
      const abortError = (phase: 'query' | 'fetch' = 'query') => {
        if (!deadline.expired) return new AppError('conflict', 409, 'The export was cancelled');
        return phase === 'query'
          ? new AppError('hive_error', 422, `The query did not finish within the time limit (${limit})`)
          : new AppError('hive_error', 422, `The export did not finish within the time limit (${limit}): Hive ran the query, but fetching its rows took longer`);
      };

      if (abort.aborted) {
        deadline.clear();
        throw abortError();
      }
      let connection: HiveConnection;
      try {
        connection = await openSession(identity);
      } catch (error) {
        deadline.clear();
        throw toAppError(error, 'OpenSession');
      }
      installFastFetch(connection.thriftClient);
      let operation: HiveOperation | undefined;
      let closed = false;

      let fetching = false;
      const close = async () => {
        if (closed) return;
        closed = true;
        deadline.clear();
        if (operation) {
          const op = operation;
          // CancelOperation is a no-op once the operation is FINISHED (a fetch task's scan runs
          // inside FetchResults then), so only CloseOperation or a dropped connection stop it.
          if (!op.finished()) await connection.call('CancelOperation', () => op.cancel(), 10_000).catch(() => undefined);
          // On a binary connection calls are answered in order: a CloseOperation would wait
          // behind the FetchResults still running. Dropping the connection ends that session and
          // its operations on the server at once; HTTP requests are independent, so close there.
          const stuckBehindFetch = fetching && config.transport === 'binary';
          if (!stuckBehindFetch) await connection.call('CloseOperation', () => op.close(), 10_000).catch(() => undefined);
        }
        await connection.close();
      };
      const onAbort = () => {
        logger.info({ reason: deadline.expired ? 'timeout' : 'cancelled' }, 'cancelling Hive operation');
        if (operation) void connection.call('CancelOperation', () => operation!.cancel(), 10_000).catch(() => undefined);
      };
      abort.addEventListener('abort', onAbort, { once: true });

      try {
        // A cancel that came while the connection opened fired no listener: don't submit the query.
        if (abort.aborted) throw abortError();
        operation = await connection
          .call('ExecuteStatement', () =>
            connection.session.executeStatement(sql, { runAsync: true, queryTimeout: Math.ceil((timeLimitMs + config.callTimeoutMs) / 1000) } as { runAsync: boolean }),
          )
          .catch((error: unknown) => {
            throw toAppError(error, 'ExecuteStatement');
          });
        let reported = false;
        const onStatus = onHiveStatus && ((status: HiveStatus) => {
          reported = true;
          onHiveStatus(status);
        });
        await waitForOperation(connection, operation, { pollIntervalMs: config.pollIntervalMs, signal: abort, abortError, ...(onStatus ? { onStatus } : {}) });
        // A fetch task is FINISHED at the first look and scans during the first FetchResults:
        // still Hive's work, so say so rather than leave the export looking queued.
        if (!reported) onHiveStatus?.({ stage: 'running' });

        const op = operation;
        op.setMaxRows(fetchSize);
        /**
         * One FetchResults. It ends at its own deadline, or at once when the export is cancelled
         * or out of time: a call still waiting is abandoned, and close() drops the connection
         * it is stuck on (CancelOperation cannot stop a FINISHED operation's fetch).
         */
        const fetchNext = (phase: 'query' | 'fetch', timeoutMs?: number) => {
          fetching = true;
          const call = connection.call('FetchResults', () => op.fetch(FETCH_NEXT), timeoutMs);
          let onAbort: (() => void) | undefined;
          const aborted = new Promise<never>((_, reject) => {
            onAbort = () => reject(abortError(phase));
            if (abort.aborted) onAbort();
            else abort.addEventListener('abort', onAbort, { once: true });
          });
          aborted.catch(() => undefined);
          return Promise.race([call, aborted])
            .catch((error: unknown) => {
              throw abort.aborted ? abortError(phase) : toAppError(error, 'FetchResults');
            })
            .finally(() => {
              abort.removeEventListener('abort', onAbort!);
              call.then(
                () => (fetching = false),
                () => (fetching = false),
              );
            });
        };
        // The first fetch also reads the result set metadata (GetResultSetMetadata), and may be
        // the scan itself (a fetch task): it gets the rest of the query's time limit, after which
        // the query's own deadline (above) has ended it.
        await fetchNext('query', timeLimitMs - (Date.now() - startedAt) + config.callTimeoutMs);
        const schema = op.getSchema() as ThriftTableSchema | null;
        if (!schema) throw new AppError('hive_error', 422, 'The statement returned no result set');
        const columns = resultColumns(schema, sql);

        async function* rowSets(): AsyncGenerator<WireRowSet> {
          for (;;) {
            // fast-fetch.ts makes every FetchResults response's `results` a WireRowSet.
            const received = op.getData() as unknown as (WireRowSet | undefined)[];
            op.flush();
            for (const rowSet of received) {
              if (rowSet && rowSet.rowCount > 0 && rowSet.columnCount !== columns.length) {
                throw new AppError('hive_error', 502, `Hive sent a result the connector cannot read (${rowSet.columnCount} columns for a schema of ${columns.length}); the export was stopped rather than left incomplete`);
              }
            }
            // The end of a result is an empty row set (HiveServer2 always says hasMoreRows=false).
            const read = received.filter((rowSet): rowSet is WireRowSet => rowSet !== undefined && rowSet.rowCount > 0);
            const more = read.length > 0;
            if (more && abort.aborted) throw abortError('fetch');
            if (!more) return;
            // Ask for the next row set before handing this one out, so the server prepares it
            // while we encode and upload (one request in flight, so memory stays bounded).
            const next = readAhead ? fetchNext('fetch') : undefined;
            next?.catch(() => undefined);
            yield* read;
            await (next ?? fetchNext('fetch'));
          }
        }
        return {
          columns,
          rowSets,
          close: async () => {
            abort.removeEventListener('abort', onAbort);
            await close();
          },
        };
      } catch (error) {
        abort.removeEventListener('abort', onAbort);
        await close();
        throw error;
      }
    },
  };
}

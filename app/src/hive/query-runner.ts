/**
 * Runs one guarded SELECT on HiveServer2 and streams its columnar row sets. The statement runs
 * asynchronously; status is polled at the configured interval (hive-driver's own waitUntilReady
 * polls with no delay at all). Cancellation — the job's, the query timeout's, or the caller going
 * away — cancels the operation on the server, so a cancelled export stops using the cluster.
 * Driver errors become AppErrors whose message a user can read; details go to the log.
 */
import hive from 'hive-driver';
import type { HiveConfig } from '../config/config.js';
import { startDeadline } from '../deadline.js';
import { AppError } from '../errors.js';
import type { ThriftRowSet, ThriftTableSchema } from './row-set.js';
import type { Logger } from '../logger.js';
import { openHiveConnection, type HiveConnection } from './hive-connection.js';

const { TCLIService_types } = hive.thrift;
const STATE = TCLIService_types.TOperationState as Record<string, number>;
const FETCH_NEXT = TCLIService_types.TFetchOrientation.FETCH_NEXT as number;

type HiveOperation = Awaited<ReturnType<HiveConnection['session']['executeStatement']>>;

export interface RunningQuery {
  schema: ThriftTableSchema;
  /** Row sets in order, each non-empty; ends when Hive has no more rows. */
  rowSets(): AsyncGenerator<ThriftRowSet>;
  /** Cancels on the server if still running, closes the operation and the session. */
  close(): Promise<void>;
}

export interface QueryRunner {
  /** Resolves once the query has FINISHED on the server and its schema is known. */
  start(sql: string, options: { signal: AbortSignal; onRunning?: () => void }): Promise<RunningQuery>;
}

/** First line of a Hive error, without Java class noise, capped: what a user can act on. */
export function readableHiveError(message: string | undefined): string {
  const first = (message ?? '').split('\n')[0]!.trim();
  const text = first.replace(/^org\.apache\.[\w.$]+:\s*/, '') || 'Hive reported an error without a message';
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
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

/**
 * Polls an operation until it has FINISHED, at a sane interval (hive-driver's own
 * waitUntilReady polls with no delay at all). Hive's ERROR, CANCELED and TIMEDOUT states become
 * readable AppErrors; `signal` ends the wait with `abortError()`.
 */
export async function waitForOperation(
  connection: HiveConnection,
  operation: HiveOperation,
  options: { pollIntervalMs: number; signal: AbortSignal; abortError: () => AppError; onRunning?: () => void },
): Promise<void> {
  const { signal, abortError } = options;
  let reportedRunning = false;
  for (;;) {
    if (signal.aborted) throw abortError();
    const status = await connection.call('GetOperationStatus', () => operation.status(false)).catch((error: unknown) => {
      throw toAppError(error, 'GetOperationStatus');
    });
    const state = status.operationState;
    if (state === STATE.FINISHED_STATE) break;
    if (state === STATE.ERROR_STATE) {
      throw new AppError('hive_error', 422, readableHiveError(status.errorMessage), { cause: status });
    }
    if (state === STATE.CANCELED_STATE || state === STATE.CLOSED_STATE) throw signal.aborted ? abortError() : new AppError('hive_error', 422, 'Hive cancelled the query');
    if (state === STATE.TIMEDOUT_STATE) throw new AppError('hive_error', 422, 'Hive timed the query out');
    if (state === STATE.RUNNING_STATE && !reportedRunning) {
      reportedRunning = true;
      options.onRunning?.();
    }
    await sleep(options.pollIntervalMs, signal);
  }
  if (!reportedRunning) options.onRunning?.();
}

export function createQueryRunner(config: HiveConfig, logger: Logger): QueryRunner {
  return {
    async start(sql, { signal, onRunning }) {
      // A timer of our own, cleared on close: an AbortSignal.timeout inside AbortSignal.any can be
      // garbage-collected before it fires (nodejs/node#57736).
      const deadline = startDeadline(config.queryTimeoutMs, { parent: signal });
      const abort = deadline.signal;
      const limit = config.queryTimeoutMs >= 60_000 ? `${Math.round(config.queryTimeoutMs / 60_000)} min` : `${Math.round(config.queryTimeoutMs / 1000)} s`;
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
      const connection = await openHiveConnection(config).catch((error: unknown) => {
        deadline.clear();
        throw error;
      });
      let operation: HiveOperation | undefined;
      let closed = false;

      const close = async () => {
        if (closed) return;
        closed = true;
        deadline.clear();
        if (operation) {
          const op = operation;
          if (!op.finished() || abort.aborted) await connection.call('CancelOperation', () => op.cancel(), 10_000).catch(() => undefined);
          await connection.call('CloseOperation', () => op.close(), 10_000).catch(() => undefined);
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
          .call('ExecuteStatement', () => connection.session.executeStatement(sql, { runAsync: true }))
          .catch((error: unknown) => {
            throw toAppError(error, 'ExecuteStatement');
          });
        await waitForOperation(connection, operation, { pollIntervalMs: config.pollIntervalMs, signal: abort, abortError, ...(onRunning ? { onRunning } : {}) });

        const op = operation;
        op.setMaxRows(config.fetchSize);
        const fetchNext = () =>
          connection.call('FetchResults', () => op.fetch(FETCH_NEXT)).catch((error: unknown) => {
            throw abort.aborted ? abortError('fetch') : toAppError(error, 'FetchResults');
          });
        // The first fetch also reads the result set metadata (GetResultSetMetadata).
        await fetchNext();
        const schema = op.getSchema() as ThriftTableSchema | null;
        if (!schema) throw new AppError('hive_error', 422, 'The statement returned no result set');

        async function* rowSets(): AsyncGenerator<ThriftRowSet> {
          for (;;) {
            const batch = op.getData() as ThriftRowSet[];
            op.flush();
            const more = op.hasMoreRows();
            if (more && abort.aborted) throw abortError('fetch');
            // Ask for the next batch before handing this one out, so the server prepares it
            // while we encode and upload (one request in flight, so memory stays bounded).
            const next = more ? fetchNext() : undefined;
            next?.catch(() => undefined);
            for (const rowSet of batch) yield rowSet;
            if (!next) return;
            await next;
          }
        }
        return {
          schema,
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

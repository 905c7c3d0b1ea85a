/**
 * One ExecuteStatement operation: compiled synchronously (as HiveServer2 compiles even async
 * statements before answering, so syntax and unknown-table errors come back from
 * ExecuteStatement), executed on its own DuckDB connection, in the background when runAsync,
 * then fetched batch by batch. Cancel interrupts the DuckDB connection, so the query really
 * stops. While the client decodes one batch, the next is already being encoded.
 * Metadata calls (GetSchemas, GetTables …) are operations of the same kind: a parameterised
 * query over DuckDB's catalog, fetched the same way.
 *
 * As SQLOperation does it:
 *  - states INITIALIZED → PENDING → RUNNING → FINISHED; a `queue` delay keeps it PENDING;
 *  - a query hive.fetch.task.conversion turns into a fetch task has no job: it is FINISHED at
 *    once and its first FetchResults does the scan (so that call can take minutes);
 *  - a query that runs a job, with hive.server2.thrift.resultset.serialize.in.tasks on and a
 *    client at V9 or later, is fetched one serialized blob at a time (see rowset-encoder.ts);
 *  - hive.query.timeout.seconds (or the request's queryTimeout) ends it TIMEDOUT;
 *  - CancelOperation on a FINISHED operation changes nothing (OperationManager.cancelOperation
 *    is a no-op for terminal states), so later fetches still work;
 *  - GetOperationStatus with getProgressUpdate reports Tez-style vertex progress, and
 *    FetchResults with fetchType 1 returns the operation log.
 */
import { randomBytes } from 'node:crypto';
import { LIST, StatementType, VARCHAR, listValue, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { duckdbSchemaFor, type HiveDatabase } from '../engine/hive-database.js';
import { HiveError, compileError, executionError, isInterrupt, metadataError, noPartitionPredicate } from '../engine/hive-errors.js';
import type { MetadataQuery } from '../engine/metadata-queries.js';
import { describeStatement } from '../engine/statement-shape.js';
import { hiveColumnName, planColumn, type ColumnPlan } from '../rowset/column-plan.js';
import { ResultCursor, type Batch } from '../rowset/result-cursor.js';
import { DEFAULT_TEXT_RULES, encodeFetchReply, type TextRules } from '../rowset/rowset-encoder.js';
import type { VersionProfile } from './cluster.js';
import { OperationLog, TezProgress, type ProgressReport } from './progress.js';
import type { EncodedMessage } from '../thrift/binary-protocol.js';
import type { FetchResultsRequest, HandleIdentifier } from '../thrift/requests.js';
import { TOperationState, TOperationType, type OperationStateCode, type OperationTypeCode } from '../thrift/responses.js';
import { DEFAULT_FAIL, type FaultSpec } from './faults.js';

/** What the DuckDB side of an operation is doing, for tests that must see a query really stop. */
export type DuckDbActivity = 'idle' | 'executing' | 'streaming' | 'done' | 'interrupted' | 'failed';

export type FetchOutcome =
  | { kind: 'reply'; message: EncodedMessage }
  | { kind: 'error'; error: HiveError }
  /** Send part of `message`, then reset the connection (a drop-during-fetch fault). */
  | { kind: 'drop'; message: EncodedMessage };

const FETCH_NEXT = 0;
const FETCH_FIRST = 4;
const ORIENTATIONS = ['FETCH_NEXT', 'FETCH_PRIOR', 'FETCH_RELATIVE', 'FETCH_ABSOLUTE', 'FETCH_FIRST', 'FETCH_LAST'];
const STATE_NAMES = Object.fromEntries(Object.entries(TOperationState).map(([name, code]) => [code, name])) as Record<number, string>;
const RESULT_STATEMENTS = new Set([StatementType.SELECT, StatementType.EXPLAIN, StatementType.PRAGMA, StatementType.CALL]);
const TERMINAL = new Set<OperationStateCode>([TOperationState.CANCELED, TOperationState.CLOSED, TOperationState.ERROR, TOperationState.TIMEDOUT]);
/** OperationState.isTerminal: FINISHED too — a cancel after it is ignored. */
const CANCEL_IGNORED = new Set<OperationStateCode>([...TERMINAL, TOperationState.FINISHED]);

export interface OperationSettings {
  /** Rows per FetchResults at most, whatever the client asks (hive.server2.thrift.resultset.max.fetch.size). */
  maxFetchRows: number;
}

/** What a statement sees of its session and server. */
export interface StatementContext {
  profile: VersionProfile;
  /** The session's effective configuration: cluster defaults, session settings, the statement's overlay. */
  conf: ReadonlyMap<string, string>;
  /** The protocol the session negotiated (0-based TProtocolVersion). */
  protocol: number;
  /** TExecuteStatementReq.queryTimeout, seconds; 0 = none. */
  requestTimeoutSeconds: number;
}

/** TProtocolVersion V9 (0-based), the first where results may be serialized in tasks. */
const PROTOCOL_V9 = 8;

interface Encoded {
  batch: Batch;
  message: EncodedMessage;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class Operation {
  readonly id: HandleIdentifier = { guid: randomBytes(16), secret: randomBytes(16) };
  readonly startedMs = Date.now();
  completedMs: number | undefined;
  state: OperationStateCode = TOperationState.INITIALIZED;
  error: HiveError | undefined;
  duckdb: DuckDbActivity = 'idle';
  fetchCalls = 0;
  /** Rows sent to the client so far (FETCH_FIRST counts them again). */
  rowsFetched = 0;
  /** The state a CancelOperation found the operation in when it stopped it (PENDING or RUNNING). */
  cancelledWhile: string | undefined;

  private cursor: ResultCursor | undefined;
  private prefetched: { maxRows: number; promise: Promise<Encoded> } | undefined;
  /** The latest batch being read from DuckDB, which must settle before the connection closes. */
  private reading: Promise<unknown> | undefined;
  private bytesPerRow = 64;
  private execution: Promise<void> | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly aborted = new AbortController();
  private dropped = false;
  private stopping = false;
  private fetchQueue: Promise<unknown> = Promise.resolve();
  private timeoutTimer: NodeJS.Timeout | undefined;
  /** Settles once the DuckDB connection is closed. */
  released: Promise<void> = Promise.resolve();
  /** A fetch task (no job): the scan happens in the first FetchResults. */
  fetchTask = false;
  /** Results fetched as serialized blobs (binaryColumns). */
  serialized = false;
  private rules: TextRules = DEFAULT_TEXT_RULES;
  /** Rows one serialized blob holds (hive.server2.thrift.resultset.default.fetch.size). */
  private blobRows = 1000;
  /** Hive 4.0's hive.fetch.task.caching: a fetch task reads its result while RUNNING. */
  private fetchTaskCaching = false;
  private runtimeErrorPrefix = 'Error while processing statement';
  private timeoutSeconds = 0;
  readonly log = new OperationLog();
  readonly progress = new TezProgress();

  private constructor(
    readonly type: OperationTypeCode,
    readonly statement: string,
    readonly columns: ColumnPlan[],
    readonly hasResultSet: boolean,
    private readonly faults: readonly FaultSpec[],
    private readonly settings: OperationSettings,
    private readonly connection: DuckDBConnection | undefined,
    private readonly prepared: DuckDBPreparedStatement | undefined,
    /** How a DuckDB failure while running reads to the client. */
    private readonly failure: (error: unknown) => HiveError = executionError,
  ) {}

  /** A printable query id, as Hive's QueryPlan makes them: hive_<yyyyMMddHHmmss>_<uuid>. */
  get queryId(): string {
    const hex = this.id.guid.toString('hex');
    const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return `hive_${new Date(this.startedMs).toISOString().replace(/\D/g, '').slice(0, 14)}_${uuid}`;
  }

  /**
   * Compiles `sql` (DuckDB SQL) on a fresh connection whose default schema is `schema`; throws
   * HiveError. `statement` is what the client sent: what faults match and inspection shows.
   */
  static async compile(
    database: HiveDatabase,
    schema: string,
    statement: string,
    sql: string,
    claimFaults: () => FaultSpec[],
    settings: OperationSettings,
    context?: StatementContext,
  ): Promise<Operation> {
    if (sql.trim() === '') throw compileError(new Error("Parser Error: cannot recognize input near '<EOF>'"));
    // The session's database may have been dropped since: that is the statement's error too.
    const { connection, prepared } = await prepareOn(database, schema, sql, compileError);
    const conf = context?.conf ?? new Map<string, string>();
    const shape = prepared.statementType === StatementType.SELECT
      ? await describeStatement(connection, sql, {
          database: schema === 'main' ? 'default' : schema,
          uniqueNames: conf.get('hive.resultset.use.unique.column.names') !== 'false',
          unionQualifier: context ? context.profile.unionQualifier : '_u1',
          columnCount: prepared.columnCount,
        })
      : undefined;
    // HiveConf.StrictChecks.isAllowed: hive.mapred.mode wins when set; else the version's setting.
    const mode = conf.get('hive.mapred.mode');
    const strict = mode !== undefined ? mode === 'strict' : conf.get(context?.profile.partitionCheck.setting ?? 'hive.strict.checks.no.partition.filter') === 'true';
    const unfiltered = strict ? shape?.unfilteredPartitionScans[0] : undefined;
    if (unfiltered) {
      connection.closeSync();
      throw noPartitionPredicate(unfiltered, context?.profile.version ?? '3.1');
    }
    const protocol = context?.protocol ?? PROTOCOL_V9 + 2;
    const columns = Array.from({ length: prepared.columnCount }, (_, i) => {
      const described = shape?.columns?.[i];
      return planColumn(described?.name ?? hiveColumnName(prepared.columnName(i), i), prepared.columnType(i), described?.hiveType, protocol);
    });
    const hasResultSet = RESULT_STATEMENTS.has(prepared.statementType) && columns.length > 0;
    // Claimed only now, so a statement that does not compile uses up no fault.
    const operation = new Operation(TOperationType.EXECUTE_STATEMENT, statement, hasResultSet ? columns : [], hasResultSet, claimFaults(), settings, connection, prepared);
    if (context && hasResultSet) {
      const conversion = conf.get('hive.fetch.task.conversion') ?? 'more';
      operation.fetchTask = conversion !== 'none' && shape?.fetchTaskEligible === true;
      operation.serialized = !operation.fetchTask && conf.get('hive.server2.thrift.resultset.serialize.in.tasks') === 'true' && protocol >= PROTOCOL_V9;
      operation.blobRows = Number(conf.get('hive.server2.thrift.resultset.default.fetch.size') ?? 1000) || 1000;
      operation.rules = {
        timestampAlwaysHasFraction: context.profile.timestampAlwaysHasFraction,
        zone: conf.get('hive.local.time.zone') ?? 'UTC',
        // ColumnBasedSet pads decimals to their scale; a result serialized in the tasks skips it.
        decimalPadded: !operation.serialized,
      };
      operation.fetchTaskCaching = context.profile.fetchTaskCaching && conf.get('hive.fetch.task.caching') !== 'false';
      operation.runtimeErrorPrefix = context.profile.runtimeErrorPrefix;
    }
    if (context) {
      const confSeconds = Number(conf.get('hive.query.timeout.seconds') ?? 0) || 0;
      const requested = context.requestTimeoutSeconds;
      operation.timeoutSeconds = confSeconds > 0 && (requested <= 0 || confSeconds < requested) ? confSeconds : requested;
    }
    operation.log.compiled(operation.queryId, statement);
    return operation;
  }

  /**
   * A metadata call's query, prepared and bound: its columns carry the names and comments Hive
   * declares (upper case, unlike statement results). Faults match `query.description`.
   */
  static async metadata(database: HiveDatabase, type: OperationTypeCode, query: MetadataQuery, claimFaults: () => FaultSpec[], settings: OperationSettings): Promise<Operation> {
    const { connection, prepared } = await prepareOn(database, duckdbSchemaFor('default'), query.sql, metadataError);
    try {
      if (prepared.columnCount !== query.columns.length) {
        throw new Error(`${query.description}: the query has ${prepared.columnCount} columns, Hive's result set ${query.columns.length}`);
      }
      const params = Object.entries(query.params);
      prepared.bind(
        Object.fromEntries(params.map(([name, values]) => [name, values === null ? null : listValue([...values])])),
        Object.fromEntries(params.map(([name]) => [name, LIST(VARCHAR)])),
      );
    } catch (error) {
      connection.closeSync();
      throw error;
    }
    const columns = query.columns.map((column, i) => ({ ...planColumn(column.name, prepared.columnType(i)), comment: column.comment }));
    return new Operation(type, query.description, columns, true, claimFaults(), settings, connection, prepared, metadataError);
  }

  /** An operation with nothing to run on DuckDB (SET, USE): finished as soon as it starts. */
  static immediate(statement: string, settings: OperationSettings): Operation {
    return new Operation(TOperationType.EXECUTE_STATEMENT, statement, [], false, [], settings, undefined, undefined);
  }

  /** Waits out `queue` delays before the operation is started (ExecuteStatement blocks, state unseen). */
  async waitForSlot(): Promise<void> {
    for (const fault of this.faults) {
      if (fault.kind === 'delay' && fault.during === 'queue') await sleep(fault.ms, this.aborted.signal);
    }
    this.queueServed = true;
  }

  private queueServed = false;

  /** Runs the statement; resolves when it has FINISHED, failed or been cancelled. */
  start(): Promise<void> {
    this.execution ??= this.run();
    return this.execution;
  }

  private setState(state: OperationStateCode): void {
    this.state = state;
    if (TERMINAL.has(state) || state === TOperationState.FINISHED) {
      this.completedMs ??= Date.now();
      clearTimeout(this.timeoutTimer);
    }
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** GetOperationStatus's progressUpdateResponse. */
  progressReport(): ProgressReport {
    return this.progress.report(this.state, this.fetchTask || !this.hasResultSet, this.startedMs);
  }

  /** Long polling, as HiveServer2 does it: wait up to `ms` for the state to change. */
  waitForChange(ms: number): Promise<void> {
    if (this.state !== TOperationState.RUNNING && this.state !== TOperationState.INITIALIZED && this.state !== TOperationState.PENDING) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(wake);
    });
  }

  private async run(): Promise<void> {
    this.setState(TOperationState.PENDING);
    this.armTimeout();
    try {
      if (!this.queueServed) await this.waitForSlot();
      if ((this.state as OperationStateCode) !== TOperationState.PENDING) return;
      this.setState(TOperationState.RUNNING);
      this.log.executing(this.queryId, this.statement, !this.fetchTask && this.hasResultSet);
      if (this.fetchTask && !this.fetchTaskCaching) {
        // No job: the scan and its failures happen in the first FetchResults.
        this.setState(TOperationState.FINISHED);
        return;
      }
      await this.execute();
      if ((this.state as OperationStateCode) === TOperationState.RUNNING) {
        this.progress.complete();
        this.log.completed(this.queryId);
        this.setState(TOperationState.FINISHED);
      }
    } catch (error) {
      if (this.state !== TOperationState.RUNNING) {
        if (isInterrupt(error)) this.duckdb = 'interrupted';
        return;
      }
      this.duckdb = error instanceof HiveError ? this.duckdb : 'failed';
      this.error = error instanceof HiveError ? error : this.failure(error);
      if (this.error.message.startsWith('Error while processing statement') && this.runtimeErrorPrefix !== 'Error while processing statement') {
        this.error = new HiveError(this.error.message.replace('Error while processing statement', this.runtimeErrorPrefix), this.error.sqlState, this.error.errorCode);
      }
      this.setState(TOperationState.ERROR);
    }
  }

  /** The 'execute' delays, an injected failure, then the DuckDB statement; the cursor is ready after. */
  private async execute(): Promise<void> {
    for (const fault of this.faults) {
      if (fault.kind === 'delay' && (fault.during ?? 'execute') === 'execute') await this.progress.during(fault.ms, () => sleep(fault.ms, this.aborted.signal));
    }
    if (this.state !== TOperationState.RUNNING && this.state !== TOperationState.FINISHED) return;
    const failure = this.faults.find((f) => f.kind === 'fail' && f.afterFetches === undefined);
    if (failure?.kind === 'fail') throw injectedError(failure);
    if (!this.prepared) return;
    this.duckdb = 'executing';
    if (this.hasResultSet) {
      const result = await this.prepared.stream();
      if (this.state !== TOperationState.RUNNING && this.state !== TOperationState.FINISHED) {
        this.duckdb = 'interrupted'; // cancelled just as the first chunk was ready
        return;
      }
      this.cursor = new ResultCursor(result, this.columns);
      this.duckdb = 'streaming';
    } else {
      await this.prepared.run();
      this.duckdb = 'done';
    }
  }

  /** hive.query.timeout.seconds: SQLOperation's timer cancels the query into TIMEDOUT. */
  private armTimeout(): void {
    if (this.timeoutSeconds <= 0) return;
    this.timeoutTimer = setTimeout(() => {
      if (this.state !== TOperationState.PENDING && this.state !== TOperationState.RUNNING) return;
      this.log.line(`Query timed out after: ${this.timeoutSeconds} seconds. Cancelling the execution now: ${this.queryId}`);
      this.setState(TOperationState.TIMEDOUT);
      this.stopDuckDb();
    }, this.timeoutSeconds * 1000);
    this.timeoutTimer.unref();
  }

  /** One fetch at a time per operation, whichever connections (or HTTP requests) they come on. */
  fetch(request: FetchResultsRequest): Promise<FetchOutcome> {
    const result = this.fetchQueue.then(() => this.fetchNow(request));
    this.fetchQueue = result.catch(() => undefined);
    return result;
  }

  private async fetchNow(request: FetchResultsRequest): Promise<FetchOutcome> {
    if (request.fetchType === 1) return { kind: 'reply', message: this.log.fetch(request.orientation === FETCH_FIRST, request.maxRows) };
    if (this.state !== TOperationState.FINISHED) return { kind: 'error', error: this.notFinished() };
    if (request.orientation !== FETCH_NEXT && request.orientation !== FETCH_FIRST) {
      const name = ORIENTATIONS[request.orientation] ?? String(request.orientation);
      return { kind: 'error', error: new HiveError(`The fetch type ${name} is not supported for this resultset`, 'HY106', 0) };
    }
    this.fetchCalls++;
    for (const fault of this.faults) {
      if (fault.kind === 'delay' && fault.during === 'fetch' && this.fetchCalls > (fault.afterFetches ?? 0)) await sleep(fault.ms, this.aborted.signal);
      if (fault.kind === 'fail' && fault.afterFetches !== undefined && this.fetchCalls > fault.afterFetches) {
        this.error = injectedError(fault);
        this.setState(TOperationState.ERROR);
        return { kind: 'error', error: this.error };
      }
    }
    // A cancel or close may have arrived while a fetch delay was running.
    if (this.state !== TOperationState.FINISHED) return { kind: 'error', error: this.notFinished() };
    if (this.fetchTask && !this.cursor && this.fetchCalls === 1) {
      // The fetch task's scan: what a job would have done before FINISHED happens now.
      try {
        await this.execute();
      } catch (error) {
        if (this.state !== TOperationState.FINISHED) return { kind: 'error', error: this.notFinished() };
        this.error = error instanceof HiveError ? error : this.failure(error);
        this.duckdb = 'failed';
        this.setState(TOperationState.ERROR);
        return { kind: 'error', error: this.error };
      }
      if (this.state !== TOperationState.FINISHED) return { kind: 'error', error: this.notFinished() };
    }
    if (!this.cursor) return { kind: 'reply', message: encodeFetchReply(this.columns, [], 0, 0, 1024, { serialized: this.serialized }) };
    if (request.orientation === FETCH_FIRST && this.cursor.rowsServed > 0) await this.restart();

    // A serialized result goes one blob per call (SQLOperation sets maxRows to 1 blob), each as
    // big as ThriftJDBCBinarySerDe buffered, whatever the client asked for.
    const maxRows = this.serialized ? this.blobRows : Math.max(0, Math.min(request.maxRows, this.settings.maxFetchRows));
    let encoded: Encoded;
    try {
      encoded = await this.nextBatch(maxRows);
    } catch (error) {
      if (this.state !== TOperationState.FINISHED) return { kind: 'error', error: this.notFinished() };
      this.error = this.failure(error);
      this.duckdb = 'failed';
      this.setState(TOperationState.ERROR);
      return { kind: 'error', error: this.error };
    }
    // An interrupted stream ends early and looks like the end of the result: it is not.
    if (this.state !== TOperationState.FINISHED) return { kind: 'error', error: this.notFinished() };
    this.cursor.commit(encoded.batch);
    this.rowsFetched += encoded.batch.rows;
    if (encoded.batch.rows > 0) this.prefetch(maxRows);
    else this.duckdb = 'done';

    const drop = this.faults.find((f) => f.kind === 'drop-during-fetch' && this.fetchCalls > (f.afterFetches ?? 1));
    if (drop && !this.dropped) {
      this.dropped = true;
      return { kind: 'drop', message: encoded.message };
    }
    return { kind: 'reply', message: encoded.message };
  }

  private notFinished(): HiveError {
    return new HiveError(`Expected states: [FINISHED], but found ${STATE_NAMES[this.state]}`, '', 0);
  }

  /** The batch for `maxRows`: the one encoded ahead if it was for the same size, else a fresh one. */
  private async nextBatch(maxRows: number): Promise<Encoded> {
    const ahead = this.prefetched;
    this.prefetched = undefined;
    if (ahead) {
      const encoded = await ahead.promise;
      if (ahead.maxRows === maxRows) return encoded;
    }
    return this.encode(maxRows);
  }

  private encode(maxRows: number): Promise<Encoded> {
    const encoding = this.encodeNow(maxRows);
    this.reading = encoding.catch(() => undefined);
    return encoding;
  }

  private async encodeNow(maxRows: number): Promise<Encoded> {
    const batch = await this.cursor!.peek(maxRows);
    const malformed = this.faults.some((f) => f.kind === 'malformed-rowset' && this.fetchCalls > (f.afterFetches ?? 0));
    const plans = malformed && batch.rows > 0 ? this.columns.slice(0, -1) : this.columns;
    const message = encodeFetchReply(plans, batch.slices, batch.rows, batch.startRow, Math.ceil(batch.rows * this.bytesPerRow * 1.1) + 1024, {
      rules: this.rules,
      serialized: this.serialized,
    });
    if (batch.rows > 0) this.bytesPerRow = message.bytes.length / batch.rows;
    return { batch, message };
  }

  /** Encodes the next batch while this one travels; a failure surfaces when that batch is asked for. */
  private prefetch(maxRows: number): void {
    const promise = this.encode(maxRows);
    promise.catch(() => undefined);
    this.prefetched = { maxRows, promise };
  }

  /** FETCH_FIRST after rows were served: HiveServer2 re-reads the result from the start. */
  private async restart(): Promise<void> {
    await this.prefetched?.promise.catch(() => undefined);
    this.prefetched = undefined;
    this.cursor = new ResultCursor(await this.prepared!.stream(), this.columns);
    this.duckdb = 'streaming';
  }

  /** Stops the query: no-op once the operation has ended, FINISHED included. */
  cancel(): void {
    if (CANCEL_IGNORED.has(this.state)) return;
    this.cancelledWhile = STATE_NAMES[this.state];
    this.setState(TOperationState.CANCELED);
    this.stopDuckDb();
  }

  close(): void {
    if (this.state === TOperationState.CLOSED) return;
    this.setState(TOperationState.CLOSED);
    this.stopDuckDb();
  }

  private stopDuckDb(): void {
    this.aborted.abort();
    // Cancel then close both come here; the connection is interrupted and closed once.
    if (!this.connection || this.stopping) return;
    this.stopping = true;
    const connection = this.connection;
    const settled = Promise.allSettled([this.execution, this.reading]);
    if (this.duckdb === 'executing' || this.duckdb === 'streaming') {
      if (this.duckdb === 'streaming') this.duckdb = 'interrupted';
      // DuckDB starts a statement on a worker thread and clears the interrupt flag when it does,
      // so an interrupt that lands just before the start is lost: repeat it until the work ends.
      connection.interrupt();
      const again = setInterval(() => connection.interrupt(), 50);
      void settled.then(() => clearInterval(again));
    }
    // Close only once nothing of ours is still using the connection.
    this.released = settled.then(() => {
      // Drop the chunks too: inspection keeps ended operations around, not their rows.
      this.cursor = undefined;
      connection.closeSync();
    });
  }
}

/** A fresh connection whose default schema is `schema`, and `sql` prepared on it; throws what `failure` makes of a DuckDB error. */
async function prepareOn(database: HiveDatabase, schema: string, sql: string, failure: (error: unknown) => HiveError) {
  const connection = await database.connect(schema).catch((error: unknown) => {
    throw failure(error);
  });
  try {
    return { connection, prepared: await connection.prepare(sql) };
  } catch (error) {
    connection.closeSync();
    throw failure(error);
  }
}

function injectedError(fault: Extract<FaultSpec, { kind: 'fail' }>): HiveError {
  return new HiveError(fault.message ?? DEFAULT_FAIL.message, fault.sqlState ?? DEFAULT_FAIL.sqlState, fault.errorCode ?? DEFAULT_FAIL.errorCode);
}

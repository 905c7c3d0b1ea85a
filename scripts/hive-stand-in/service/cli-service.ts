/**
 * TCLIService, the HiveServer2 Thrift service: sessions and operations keyed by their handles,
 * one method per call. Transports hand it decoded call arguments and a context (who the
 * transport authenticated, which connection the call came on) and send back what it returns.
 * Errors follow HiveServer2: a status with ERROR_STATUS, SQLSTATE, error code and message, never
 * an exception, except for protocol-level problems, which Thrift answers with an EXCEPTION message.
 */
import { randomBytes } from 'node:crypto';
import { duckdbSchemaFor, type HiveDatabase } from '../engine/hive-database.js';
import { chooseProcessor, notWhitelisted, type HiveCommand } from '../engine/hive-commands.js';
import { HiveError } from '../engine/hive-errors.js';
import { translateHiveQl } from '../engine/hiveql.js';
import { getColumnsQuery } from '../engine/get-columns.js';
import { getCatalogsQuery, getSchemasQuery, getTableTypesQuery, getTablesQuery, type MetadataQuery } from '../engine/metadata-queries.js';
import { writeTableSchema } from '../rowset/column-plan.js';
import { ThriftProtocolError, setSeqid, type EncodedMessage, type ThriftStruct } from '../thrift/binary-protocol.js';
import {
  executeStatementRequest, fetchResultsRequest, getColumnsRequest, getInfoType, getSchemasRequest, getTablesRequest, openSessionRequest, operationHandle, requestOf,
  sessionHandle, type HandleIdentifier, type StructView,
} from '../thrift/requests.js';
import {
  SUCCESS, TApplicationExceptionType, TOperationState, TOperationType, TStatusCode, applicationException, getInfoBody, getQueryIdBody,
  openSessionBody, operationBody, operationStatusBody, reply, statusOnly, writeStatus, type InfoValue, type OperationTypeCode, type Status,
} from '../thrift/responses.js';
import type { Cluster } from './cluster.js';
import type { FaultRegistry } from './faults.js';
import { Operation, type DuckDbActivity, type StatementContext } from './operation.js';
import { runReset, runSet, setVariable } from './session-commands.js';

export interface ServiceSettings {
  /** The Hive version and hive-site.xml the server runs with. */
  cluster: Cluster;
  maxFetchRows: number;
  /** Longest a GetOperationStatus waits for a running operation (hive.server2.long.polling.timeout). */
  longPollingMaxMs: number;
}

/** Sessions opened on one binary connection; HiveServer2 closes them when the connection goes. */
export class ConnectionScope {
  readonly sessions = new Set<Session>();
}

export interface CallContext {
  /** The user the transport authenticated (SASL PLAIN, HTTP Basic); NOSASL takes the OpenSession username. */
  user: string | undefined;
  scope: ConnectionScope | undefined;
}

export type CallOutcome = { kind: 'reply'; message: EncodedMessage } | { kind: 'drop'; message: EncodedMessage };

export interface OperationInfo {
  statement: string;
  /** The session's user: the impersonated one under hive.server2.proxy.user. */
  user: string;
  /** Who authenticated the connection (the service account). */
  realUser: string;
  /** What the session set (set:hiveconf: keys and SET), e.g. hive.query.tag. */
  conf: Record<string, string>;
  /** Ran as a fetch task (no job) / fetched as serialized blobs. */
  fetchTask: boolean;
  serialized: boolean;
  state: string;
  duckdb: DuckDbActivity;
  fetchCalls: number;
  /** Rows the client has been sent. */
  rowsFetched: number;
  /** Set when CancelOperation stopped the operation: the state it was in (PENDING or RUNNING). */
  cancelledWhile: string | undefined;
  error: string | undefined;
}

/** A statement HiveServer2 would have handed to a command processor rather than the SQL driver. */
export interface CommandInvocation {
  command: HiveCommand;
  /** As the client sent it. */
  statement: string;
  user: string;
}

/**
 * hive.security.command.whitelist of the stand-in: only SET and RESET run. HiveServer2's default
 * also allows dfs, add, list, delete, reload, compile and llap; here they fail as a cluster
 * that forbids them would, and the invocation is recorded.
 */
const COMMAND_WHITELIST: ReadonlySet<string> = new Set(['set', 'reset']);

class Session {
  readonly id: HandleIdentifier = { guid: randomBytes(16), secret: randomBytes(16) };
  readonly operations = new Set<Operation>();
  readonly conf = new Map<string, string>();
  readonly hivevars = new Map<string, string>();

  constructor(
    readonly user: string,
    readonly realUser: string,
    readonly protocol: number,
    public database: string,
  ) {}
}

/** TProtocolVersion V10 (0-based): GetOperationStatus may carry in-place progress. */
const PROTOCOL_V10 = 9;

/** ProgressMonitor.NULL, what GetOperationStatus carries when there is no progress to tell. */
const NO_PROGRESS = { headerNames: [], rows: [], progressedPercentage: 0, status: 2, footerSummary: '', startTime: 0 };

const STATE_NAMES = Object.fromEntries(Object.entries(TOperationState).map(([name, code]) => [code, name])) as Record<number, string>;
const HISTORY = 200;

/** TGetInfoType values HiveServer2 answers, with its answers (CLI_DBMS_VER is the version's). */
const INFO: Record<number, InfoValue> = {
  13: { stringValue: 'Hive' }, // CLI_SERVER_NAME
  17: { stringValue: 'Apache Hive' }, // CLI_DBMS_NAME
  30: { lenValue: 128n }, // CLI_MAX_COLUMN_NAME_LEN
  32: { lenValue: 128n }, // CLI_MAX_SCHEMA_NAME_LEN
  35: { lenValue: 128n }, // CLI_MAX_TABLE_NAME_LEN
};
const CLI_DBMS_VER = 18;

/** Calls the stand-in answers with a clear "not supported" status rather than pretending. */
const NOT_SUPPORTED = [
  'GetTypeInfo', 'GetFunctions', 'GetPrimaryKeys', 'GetCrossReference', 'GetDelegationToken', 'CancelDelegationToken',
  'RenewDelegationToken', 'UploadData', 'DownloadData',
];

const key = (id: HandleIdentifier) => id.guid.toString('hex');
const sameSecret = (a: HandleIdentifier, b: HandleIdentifier) => a.secret.equals(b.secret);
const uuid = (guid: Buffer) => {
  const hex = guid.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * HiveServer2 statuses carry the Java exception as info messages (2.3, 3.1), or since 4.0 a fixed
 * "Server-side error" line (HiveSQLException.toTStatus / DEFAULT_INFO).
 */
export function errorStatus(error: HiveError | string, infoMessages: 'stack' | 'server-side' = 'stack'): Status {
  const hiveError = typeof error === 'string' ? new HiveError(error, '', 0) : error;
  return {
    code: TStatusCode.ERROR,
    ...(hiveError.sqlState ? { sqlState: hiveError.sqlState } : {}),
    errorCode: hiveError.errorCode,
    errorMessage: hiveError.message,
    infoMessages: infoMessages === 'stack' ? [`*org.apache.hive.service.cli.HiveSQLException:${hiveError.message}:0:0`] : ['Server-side error; please check HS2 logs.'],
  };
}

/**
 * GetOperationStatus's errorMessage for a failed operation: 2.3 sends
 * StringUtils.stringifyException of the HiveSQLException — the whole stack trace, class name first.
 */
function statusErrorText(error: HiveError, stackTrace: boolean): string {
  if (!stackTrace) return error.message;
  return `org.apache.hive.service.cli.HiveSQLException: ${error.message}\n\tat org.apache.hive.service.cli.operation.Operation.toSQLException(Operation.java:380)\n\tat org.apache.hive.service.cli.operation.SQLOperation.runQuery(SQLOperation.java:257)`;
}

export class CliService {
  private readonly sessions = new Map<string, Session>();
  private readonly operations = new Map<string, { operation: Operation; session: Session }>();
  private readonly history: { operation: Operation; session: Session }[] = [];
  private readonly commandLog: CommandInvocation[] = [];

  constructor(
    private readonly database: HiveDatabase,
    private readonly faults: FaultRegistry,
    private readonly settings: ServiceSettings,
  ) {}

  async call(method: string, seqid: number, args: ThriftStruct, context: CallContext): Promise<CallOutcome> {
    const answer = (body: Parameters<typeof reply>[2]): CallOutcome => ({ kind: 'reply', message: reply(method, seqid, body) });
    try {
      switch (method) {
        case 'OpenSession':
          return answer(await this.openSession(args, context));
        case 'CloseSession': {
          const session = this.session(requestOf(args, method), method);
          if (typeof session === 'string') return answer(statusOnly(errorStatus(session)));
          this.closeSession(session);
          context.scope?.sessions.delete(session);
          return answer(statusOnly(SUCCESS));
        }
        case 'GetInfo': {
          const req = requestOf(args, method);
          const session = this.session(req, method);
          if (typeof session === 'string') return answer(getInfoBody(errorStatus(session), { stringValue: '' }));
          const type = getInfoType(req);
          const value = type === CLI_DBMS_VER ? { stringValue: this.settings.cluster.profile.dbmsVersion } : INFO[type];
          return answer(value ? getInfoBody(SUCCESS, value) : getInfoBody(errorStatus(`Unrecognized GetInfoType value: ${type}`), { stringValue: '' }));
        }
        case 'ExecuteStatement':
          return answer(await this.executeStatement(args));
        case 'GetCatalogs':
          return answer(await this.runMetadata(args, method, TOperationType.GET_CATALOGS, getCatalogsQuery));
        case 'GetSchemas':
          return answer(await this.runMetadata(args, method, TOperationType.GET_SCHEMAS, (req) => getSchemasQuery(getSchemasRequest(req))));
        case 'GetTables':
          return answer(await this.runMetadata(args, method, TOperationType.GET_TABLES, (req) => getTablesQuery(getTablesRequest(req))));
        case 'GetTableTypes':
          return answer(await this.runMetadata(args, method, TOperationType.GET_TABLE_TYPES, getTableTypesQuery));
        case 'GetColumns':
          return answer(await this.runMetadata(args, method, TOperationType.GET_COLUMNS, (req) => getColumnsQuery(this.database, getColumnsRequest(req))));
        case 'GetOperationStatus': {
          const req = requestOf(args, method);
          const found = this.operation(req);
          if (typeof found === 'string') return answer(operationStatusBody(errorStatus(found)));
          const { operation, session } = found;
          await operation.waitForChange(this.longPollMs(operation));
          // progressUpdateResponse is always there (CLIService.progressUpdateLog): Tez's monitor
          // when asked for and the session runs on Tez with in-place progress, an empty one else.
          const conf = this.statementContext(session, new Map(), 0).conf;
          const tez = conf.get('hive.execution.engine') === 'tez' && conf.get('hive.server2.in.place.progress') !== 'false';
          const wantsProgress = req.bool(2, 'getProgressUpdate') === true && session.protocol >= PROTOCOL_V10 && tez;
          const { profile } = this.settings.cluster;
          return answer(operationStatusBody(SUCCESS, {
            state: operation.state,
            startedMs: operation.startedMs,
            completedMs: operation.completedMs,
            hasResultSet: operation.hasResultSet,
            ...(operation.error
              ? { sqlState: operation.error.sqlState, errorCode: operation.error.errorCode, errorMessage: statusErrorText(operation.error, profile.statusErrorIsStackTrace) }
              : {}),
            progress: wantsProgress ? operation.progressReport() : NO_PROGRESS,
          }));
        }
        case 'GetResultSetMetadata': {
          const found = this.operation(requestOf(args, method));
          if (typeof found === 'string') return answer(statusOnly(errorStatus(found)));
          return answer((w) => {
            writeStatus(w, SUCCESS);
            writeTableSchema(w, 2, found.operation.columns);
            w.stop();
          });
        }
        case 'FetchResults': {
          const req = requestOf(args, method);
          const found = this.operation(req);
          if (typeof found === 'string') return answer(statusOnly(errorStatus(found)));
          const outcome = await found.operation.fetch(fetchResultsRequest(req));
          if (outcome.kind === 'error') return answer(statusOnly(errorStatus(outcome.error)));
          setSeqid(outcome.message, seqid); // it may have been encoded before this request came
          return outcome;
        }
        case 'CancelOperation': {
          const found = this.operation(requestOf(args, method));
          if (typeof found === 'string') return answer(statusOnly(errorStatus(found)));
          found.operation.cancel();
          return answer(statusOnly(SUCCESS));
        }
        case 'CloseOperation': {
          const found = this.operation(requestOf(args, method));
          if (typeof found === 'string') return answer(statusOnly(errorStatus(found)));
          this.closeOperation(found.operation, found.session);
          return answer(statusOnly(SUCCESS));
        }
        case 'GetQueryId': {
          const found = this.operation(requestOf(args, method));
          if (typeof found === 'string') return { kind: 'reply', message: applicationException(method, seqid, TApplicationExceptionType.INTERNAL_ERROR, found) };
          return answer(getQueryIdBody(found.operation.queryId));
        }
        case 'SetClientInfo': {
          const session = this.session(requestOf(args, method), method);
          return answer(statusOnly(typeof session === 'string' ? errorStatus(session) : SUCCESS));
        }
        default:
          if (NOT_SUPPORTED.includes(method)) {
            return answer(statusOnly(errorStatus(new HiveError(`${method} is not supported by the HiveServer2 stand-in (it answers ExecuteStatement, GetCatalogs, GetSchemas, GetTables, GetTableTypes and GetColumns)`, 'HYC00', 0))));
          }
          return { kind: 'reply', message: applicationException(method, seqid, TApplicationExceptionType.UNKNOWN_METHOD, `Invalid method name: '${method}'`) };
      }
    } catch (error) {
      // What the client sent cannot be read, or the stand-in itself failed: either way the
      // client gets a Thrift exception that says so rather than a silent hang-up.
      const type = error instanceof ThriftProtocolError ? TApplicationExceptionType.PROTOCOL_ERROR : TApplicationExceptionType.INTERNAL_ERROR;
      return { kind: 'reply', message: applicationException(method, seqid, type, `${method}: ${(error as Error).message}`) };
    }
  }

  /**
   * ThriftCLIService.OpenSession: the proxy user is checked first (getProxyUser), then the
   * per-user connection limit (SessionManager), then the configuration is applied as
   * HiveSessionImpl.configureSession does: `use:` selects the database, `set:` keys go through
   * SetProcessor (and HiveConf's restrictions), other keys straight into the conf. Any failure
   * is the call's error status and no session exists.
   */
  private async openSession(args: ThriftStruct, context: CallContext) {
    const req = openSessionRequest(requestOf(args, 'OpenSession'));
    const { cluster } = this.settings;
    const protocol = Math.min(req.clientProtocol, cluster.profile.maxProtocol);
    const realUser = context.user ?? req.username ?? 'anonymous';
    const fail = (error: HiveError) => openSessionBody(errorStatus(error), protocol);
    let database = 'default';
    const conf: [string, string][] = [];
    let proxyUser: string | undefined;
    for (const [name, value] of req.configuration) {
      if (name === 'use:database') database = value;
      else if (name === 'hive.server2.proxy.user') proxyUser = value;
      else conf.push([name.replace(/^set:/, ''), value]);
    }
    try {
      if (proxyUser !== undefined) cluster.verifyProxy(realUser, proxyUser, cluster.conf);
      const user = proxyUser ?? realUser;
      const limit = cluster.connectionLimitPerUser;
      if (cluster.profile.connectionLimits && limit > 0 && [...this.sessions.values()].filter((s) => s.user === user).length >= limit) {
        throw new HiveError(`Connection limit per user reached (user: ${user} limit: ${limit})`, '', 0);
      }
      for (const [name] of conf) cluster.verifySettable(name.replace(/^(hiveconf|system):/, ''));
      // The raw key reaches HiveConf.verifyAndSet too (after getProxyUser accepted it).
      if (proxyUser !== undefined) cluster.verifySettable('hive.server2.proxy.user', false);
      // HiveSessionImpl.configureSession looks `use:` up in the metastore (4.0 skips `default`).
      const checkUse = !(cluster.profile.version === '4.0' && database.toLowerCase() === 'default');
      if (checkUse && !(await this.database.databaseExists(duckdbSchemaFor(database)))) {
        throw new HiveError(`Failed to open new session: Database ${database} does not exist`, '', 0);
      }
      const session = new Session(user, realUser, protocol, database);
      for (const [name, value] of conf) setVariable(session, name, value);
      this.sessions.set(key(session.id), session);
      context.scope?.sessions.add(session);
      return openSessionBody(SUCCESS, protocol, session.id);
    } catch (error) {
      if (error instanceof HiveError) return fail(error);
      throw error;
    }
  }

  /** What a statement of `session` sees: cluster defaults, the session's settings, the overlay. */
  private statementContext(session: Session, overlay: ReadonlyMap<string, string>, requestTimeoutSeconds: number): StatementContext {
    const conf = new Map(this.settings.cluster.conf);
    for (const [name, value] of session.conf) conf.set(name, value);
    for (const [name, value] of overlay) conf.set(name.replace(/^set:(hiveconf:)?/, ''), value);
    return { profile: this.settings.cluster.profile, conf, protocol: session.protocol, requestTimeoutSeconds };
  }

  private async executeStatement(args: ThriftStruct) {
    const req = executeStatementRequest(requestOf(args, 'ExecuteStatement'));
    const session = this.session(requestOf(args, 'ExecuteStatement'), 'ExecuteStatement');
    if (typeof session === 'string') return operationBody(errorStatus(session));
    let operation: Operation;
    const context = this.statementContext(session, req.confOverlay, req.queryTimeoutSeconds);
    const info = this.settings.cluster.profile.infoMessages;
    try {
      operation = await this.prepare(session, req.statement, context);
    } catch (error) {
      if (error instanceof HiveError) return operationBody(errorStatus(error, info));
      throw error;
    }
    this.register(operation, session);

    // The cluster's background pool has no slot (a `queue` delay): with async compile the
    // operation waits PENDING; without it ExecuteStatement itself blocks until it gets one.
    const asyncCompile = req.runAsync && context.conf.get('hive.server2.async.exec.async.compile') === 'true';
    if (!asyncCompile) await operation.waitForSlot();
    const running = operation.start();
    if (!req.runAsync) {
      await running;
      if (operation.state === TOperationState.ERROR) return operationBody(errorStatus(operation.error!, info));
      if (operation.state === TOperationState.CANCELED) return operationBody(errorStatus(new HiveError('Query was cancelled', '01000', 0)));
    }
    return operationBody(SUCCESS, { id: operation.id, type: operation.type, hasResultSet: operation.hasResultSet });
  }

  /**
   * GetCatalogs, GetSchemas, GetTables, GetTableTypes, GetColumns. HiveServer2 runs metadata
   * operations before it answers the call, so the handle comes back FINISHED (clients still poll
   * GetOperationStatus before fetching); a failure is the call's error status, and the failed
   * operation is closed, as HiveSessionImpl does.
   */
  private async runMetadata(args: ThriftStruct, method: string, type: OperationTypeCode, query: (req: StructView) => MetadataQuery | Promise<MetadataQuery>) {
    const req = requestOf(args, method);
    const session = this.session(req, method);
    if (typeof session === 'string') return operationBody(errorStatus(session));
    let metadata: MetadataQuery;
    let operation: Operation;
    try {
      metadata = await query(req);
      operation = await Operation.metadata(this.database, type, metadata, () => this.faults.claim(metadata.description), { maxFetchRows: this.settings.maxFetchRows });
    } catch (error) {
      if (error instanceof HiveError) return operationBody(errorStatus(error));
      throw error;
    }
    this.register(operation, session);
    await operation.start();
    if (operation.state !== TOperationState.FINISHED) {
      // ERROR, or CLOSED when the session went while it ran.
      const error = operation.error ?? new HiveError(`${method} was closed before it finished`, 'HY010', 0);
      this.closeOperation(operation, session);
      return operationBody(errorStatus(error));
    }
    return operationBody(SUCCESS, { id: operation.id, type: operation.type, hasResultSet: operation.hasResultSet });
  }

  private register(operation: Operation, session: Session): void {
    session.operations.add(operation);
    this.operations.set(key(operation.id), { operation, session });
    this.history.push({ operation, session });
    if (this.history.length > HISTORY) this.history.shift();
  }

  /**
   * HiveServer2's choice first: a command-processor statement is recorded and never reaches
   * DuckDB (SET and RESET change the session, every other command is refused as not
   * whitelisted). Then USE changes the session, and anything else is compiled on DuckDB.
   */
  private async prepare(session: Session, statement: string, context: StatementContext): Promise<Operation> {
    const settings = { maxFetchRows: this.settings.maxFetchRows };
    const schema = duckdbSchemaFor(session.database);
    const choice = chooseProcessor(statement, COMMAND_WHITELIST);
    if (choice.kind === 'command') {
      this.commandLog.push({ command: choice.command, statement, user: session.user });
      if (choice.allowed && choice.command === 'set') {
        const lines = runSet(session, choice.args);
        if (lines.length === 0) return Operation.immediate(statement, settings);
        // Hive's result set is one string column `set`; a constant VALUES list serves it.
        const sql = `SELECT "set" FROM (VALUES ${lines.map((l) => `('${l.replaceAll("'", "''")}')`).join(', ')}) AS t("set")`;
        return Operation.compile(this.database, schema, statement, sql, () => this.faults.claim(statement), settings, context);
      }
      if (choice.allowed && choice.command === 'reset') {
        runReset(session, choice.args);
        return Operation.immediate(statement, settings);
      }
      throw notWhitelisted(choice.cleanStatement);
    }
    const use = /^\s*use\s+`?([A-Za-z0-9_]+)`?\s*;?\s*$/i.exec(statement);
    if (use) {
      const database = use[1]!;
      if (!(await this.database.databaseExists(duckdbSchemaFor(database)))) {
        throw new HiveError(`Error while compiling statement: FAILED: SemanticException [Error 10072]: Database does not exist: ${database}`, '42000', 10072);
      }
      session.database = database;
      return Operation.immediate(statement, settings);
    }
    if (!(await this.database.databaseExists(schema))) {
      // Hive before 4 takes any `use:` database at OpenSession; statements fail later.
      throw new HiveError(`Error while compiling statement: FAILED: SemanticException [Error 10072]: Database does not exist: ${session.database}`, '42000', 10072);
    }
    return Operation.compile(this.database, schema, statement, translateHiveQl(statement), () => this.faults.claim(statement), settings, context);
  }

  /** HiveServer2's step function: 500 ms more every 10 s the operation has run, up to the maximum. */
  private longPollMs(operation: Operation): number {
    const elapsed = Date.now() - operation.startedMs;
    return Math.min(this.settings.longPollingMaxMs, (Math.floor(elapsed / 10_000) + 1) * 500);
  }

  private session(req: Parameters<typeof sessionHandle>[0], method: string): Session | string {
    const id = sessionHandle(req);
    const session = this.sessions.get(key(id));
    if (!session || !sameSecret(session.id, id)) return `Invalid SessionHandle: SessionHandle [${uuid(id.guid)}] (${method})`;
    return session;
  }

  private operation(req: Parameters<typeof operationHandle>[0]): { operation: Operation; session: Session } | string {
    const id = operationHandle(req);
    const found = this.operations.get(key(id));
    if (!found || !sameSecret(found.operation.id, id)) {
      return `Invalid OperationHandle: OperationHandle [opType=EXECUTE_STATEMENT, getHandleIdentifier()=${uuid(id.guid)}]`;
    }
    return found;
  }

  private closeOperation(operation: Operation, session: Session): void {
    operation.close();
    session.operations.delete(operation);
    this.operations.delete(key(operation.id));
  }

  private closeSession(session: Session): void {
    for (const operation of session.operations) this.closeOperation(operation, session);
    this.sessions.delete(key(session.id));
  }

  /** The connection a scope belongs to has gone: its sessions and their queries go with it. */
  closeScope(scope: ConnectionScope): void {
    for (const session of scope.sessions) this.closeSession(session);
    scope.sessions.clear();
  }

  /** Closes every session; resolves once every DuckDB connection is closed. */
  async closeAll(): Promise<void> {
    const operations = [...this.operations.values()].map((entry) => entry.operation);
    for (const session of [...this.sessions.values()]) this.closeSession(session);
    await Promise.all(operations.map((operation) => operation.released));
  }

  /** Recent operations, newest last, including closed ones, for tests and the admin listener. */
  inspect(): OperationInfo[] {
    return this.history.map(({ operation, session }) => ({
      statement: operation.statement,
      user: session.user,
      realUser: session.realUser,
      conf: Object.fromEntries(session.conf),
      fetchTask: operation.fetchTask,
      serialized: operation.serialized,
      state: STATE_NAMES[operation.state] ?? String(operation.state),
      duckdb: operation.duckdb,
      fetchCalls: operation.fetchCalls,
      rowsFetched: operation.rowsFetched,
      cancelledWhile: operation.cancelledWhile,
      error: operation.error?.message,
    }));
  }

  /** Every statement routed to a command processor, oldest first, refused ones included. */
  commands(): CommandInvocation[] {
    return this.commandLog.map((invocation) => ({ ...invocation }));
  }

  /** Open sessions, for tests that check a dropped connection took its sessions with it. */
  get openSessions(): number {
    return this.sessions.size;
  }
}

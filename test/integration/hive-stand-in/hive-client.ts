/**
 * hive-driver as the stand-in's tests use it: connect over a listener's transport and auth, run
 * statements, fetch row sets. Every wait is bounded, because hive-driver leaves a call pending
 * forever when its connection dies; `connection.broken` turns that into an error instead.
 */
import hive from 'hive-driver';
import thrift from 'thrift';
import type { ListenerInfo } from '../../../scripts/hive-stand-in/index.js';

export const { TCLIService, TCLIService_types } = hive.thrift;
export const TStatusCode = TCLIService_types.TStatusCode as Record<string, number>;
export const TOperationState = TCLIService_types.TOperationState as Record<string, number>;
export const TTypeId = TCLIService_types.TTypeId as Record<string, number>;
export const TGetInfoType = TCLIService_types.TGetInfoType as Record<string, number>;
export const PROTOCOL_V10 = TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 as number;

type Client = InstanceType<typeof hive.HiveClient>;
export type Session = Awaited<ReturnType<Client['openSession']>>;
export type Operation = Awaited<ReturnType<Session['executeStatement']>>;
export type RowSet = ReturnType<Operation['getData']>[number];
export type Schema = NonNullable<ReturnType<Operation['getSchema']>>;

export interface Connection {
  client: Client;
  /** The raw Thrift calls, for responses hive-driver's session API does not show. */
  driver: InstanceType<typeof hive.HiveDriver>;
  utils: InstanceType<typeof hive.HiveUtils>;
  /** Rejects with the first connection-level error or close. */
  broken: Promise<never>;
  /** Resolves `promise`, or rejects when the connection breaks or `ms` pass. */
  bounded<T>(promise: Promise<T>, what: string, ms?: number): Promise<T>;
  close(): void;
}

export interface Credentials {
  username: string;
  password: string;
}

export const DEFAULT_CREDENTIALS: Credentials = { username: 'hive', password: 'hive' };

export async function connect(listener: ListenerInfo, credentials: Credentials = DEFAULT_CREDENTIALS): Promise<Connection> {
  const client = new hive.HiveClient(TCLIService, TCLIService_types);
  let fail!: (error: Error) => void;
  const broken = new Promise<never>((_, reject) => (fail = reject));
  broken.catch(() => undefined);
  client.on('error', (error: Error) => fail(error));
  client.on('close', () => fail(new Error('connection closed')));

  const http = listener.transport === 'http';
  const auth =
    listener.auth === 'NOSASL'
      ? new hive.auth.NoSaslAuthentication()
      : http
        ? new hive.auth.PlainHttpAuthentication(credentials)
        : new hive.auth.PlainTcpAuthentication(credentials);
  const connection = http ? new hive.connections.HttpConnection() : new hive.connections.TcpConnection();
  const bounded = <T>(promise: Promise<T>, what: string, ms = 30_000): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    });
    return Promise.race([promise, broken, timeout]).finally(() => clearTimeout(timer));
  };
  await bounded(client.connect({ host: listener.host, port: listener.port, options: http ? { path: listener.path } : {} }, connection, auth), 'connect');
  return {
    client,
    driver: new hive.HiveDriver(TCLIService_types, client.getClient()),
    utils: new hive.HiveUtils(TCLIService_types),
    broken,
    bounded,
    close: () => {
      client.removeAllListeners('close');
      client.on('error', () => undefined);
      client.close();
    },
  };
}

export async function openSession(connection: Connection, configuration?: Record<string, string>): Promise<Session> {
  return connection.bounded(connection.client.openSession({ client_protocol: PROTOCOL_V10, ...(configuration ? { configuration } : {}) }), 'OpenSession');
}

/**
 * A serialized row set (binaryColumns + columnCount) turned into the usual `columns`, read with
 * thrift's own TCompactProtocol and the generated TColumn, as Hive's ColumnBasedSet(TRowSet)
 * reads it: an independent decoder of what the stand-in writes. Other row sets pass unchanged.
 */
export function expandSerialized(rowSet: RowSet): RowSet {
  const raw = rowSet as unknown as { binaryColumns?: Buffer | null; columnCount?: number | null; columns?: unknown[] | null };
  if (!raw.binaryColumns) return rowSet;
  const transport = new thrift.TFramedTransport(raw.binaryColumns);
  const protocol = new thrift.TCompactProtocol(transport);
  // thrift 0.20's readBool reads a list element as `readByte().value`, but the transport's
  // readByte returns the number itself, so every boolean would read false. Java's TCompactProtocol
  // reads `readByte() == BOOLEAN_TRUE`; so does this override.
  const state = protocol as unknown as { boolValue_: { hasBoolValue: boolean; boolValue: boolean } };
  protocol.readBool = () => {
    if (state.boolValue_.hasBoolValue) {
      state.boolValue_.hasBoolValue = false;
      return state.boolValue_.boolValue;
    }
    return (transport.readByte() as unknown as number) === 1;
  };
  const columns: unknown[] = [];
  for (let i = 0; i < (raw.columnCount ?? 0); i++) {
    const column = new TCLIService_types.TColumn();
    column.read(protocol);
    columns.push(column);
  }
  raw.columns = columns;
  return rowSet;
}

/** Rows in a row set, whichever member its first column uses. */
export function rowSetRows(rowSet: RowSet): number {
  const first = (rowSet.columns ?? [])[0] as unknown as Record<string, { values: unknown[] } | null> | undefined;
  if (!first) return 0;
  return Object.values(first).find((member) => member?.values)?.values.length ?? 0;
}

/**
 * Runs a statement to completion, handing each row set (hive-driver's raw TRowSet, serialized
 * ones expanded) over as it arrives. Ends at the first empty row set, as HiveServer2 clients do
 * (hive-driver's hasMoreRows stops early on a serialized row set, whose `columns` is unset).
 */
export async function streamRowSets(connection: Connection, session: Session, sql: string, maxRows: number, onRowSet: (rowSet: RowSet) => void): Promise<Schema> {
  const operation = await connection.bounded(session.executeStatement(sql, { runAsync: true }), 'ExecuteStatement');
  await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
  operation.setMaxRows(maxRows);
  await drainRowSets(connection, operation, onRowSet);
  const schema = operation.getSchema()!;
  await connection.bounded(operation.close(), 'CloseOperation');
  return schema;
}

/** Fetches a FINISHED operation's rows to the end (serialized row sets expanded). */
export async function drainRowSets(connection: Connection, operation: Operation, onRowSet: (rowSet: RowSet) => void): Promise<void> {
  for (;;) {
    await connection.bounded(operation.fetch(), 'FetchResults');
    let rows = 0;
    for (const rowSet of operation.getData()) {
      rows += rowSetRows(expandSerialized(rowSet));
      onRowSet(rowSet);
    }
    operation.flush();
    if (rows === 0) break;
  }
}

/** Every non-empty row set of a FINISHED operation. */
export async function collectRowSets(connection: Connection, operation: Operation): Promise<{ rowSets: RowSet[] }> {
  const rowSets: RowSet[] = [];
  await drainRowSets(connection, operation, (rowSet) => {
    if (rowSetRows(rowSet) > 0) rowSets.push(rowSet);
  });
  return { rowSets };
}

/** Runs a statement to completion and returns every row set and the schema. */
export async function fetchRowSets(connection: Connection, session: Session, sql: string, maxRows = 10_000): Promise<{ schema: Schema; rowSets: RowSet[] }> {
  const rowSets: RowSet[] = [];
  const schema = await streamRowSets(connection, session, sql, maxRows, (rowSet) => rowSets.push(rowSet));
  return { schema, rowSets };
}

/** Rows as hive-driver's JsonResult makes them (BIGINT through Number, DECIMAL through Number). */
export async function fetchJsonRows(connection: Connection, session: Session, sql: string): Promise<Record<string, unknown>[]> {
  const operation = await connection.bounded(session.executeStatement(sql, { runAsync: true }), 'ExecuteStatement');
  await connection.bounded(connection.utils.waitUntilReady(operation, false, () => undefined), 'waitUntilReady');
  for (;;) {
    await connection.bounded(operation.fetch(), 'FetchResults');
    const data = operation.getData();
    const last = data.at(-1);
    if (!last || rowSetRows(expandSerialized(last)) === 0) break;
  }
  const rows = connection.utils.getResult(operation).getValue() as Record<string, unknown>[];
  await connection.bounded(operation.close(), 'CloseOperation');
  return rows;
}

/** The one TColumn member a column arrived in. */
export function columnValues(rowSet: RowSet, index: number): { kind: string; values: unknown[]; nulls: Buffer } {
  const column = (rowSet.columns ?? [])[index] as unknown as Record<string, { values: unknown[]; nulls: Buffer } | null | undefined>;
  const kind = Object.keys(column).find((name) => column[name]);
  if (!kind) throw new Error(`column ${index} has no value member`);
  return { kind, ...column[kind]! };
}

export function isNull(nulls: Buffer, row: number): boolean {
  return ((nulls[row >> 3] ?? 0) & (1 << (row & 7))) !== 0;
}

/** node-int64 values (what thrift decodes an i64 into: 8 big-endian bytes) as exact BigInts. */
export function int64(value: unknown): bigint {
  const { buffer, offset } = value as { buffer: Buffer; offset: number };
  return buffer.readBigInt64BE(offset);
}

type SessionHandle = Parameters<Connection['driver']['closeSession']>[0]['sessionHandle'];

/** The Thrift handle behind a hive-driver session (private in its typings), for raw calls. */
export function sessionHandleOf(session: Session): SessionHandle {
  return (session as unknown as { sessionHandle: SessionHandle }).sessionHandle;
}

type OperationHandle = Parameters<Connection['driver']['fetchResults']>[0]['operationHandle'];

/** The Thrift handle behind a hive-driver operation (private in its typings), for raw calls. */
export function operationHandleOf(operation: Operation): OperationHandle {
  return (operation as unknown as { operationHandle: OperationHandle }).operationHandle;
}

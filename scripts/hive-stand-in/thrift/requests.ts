/**
 * Typed views of the TCLIService requests the stand-in serves, read from the generic field-id
 * trees by the field ids of TCLIService.thrift. A missing required field or a field of the wrong
 * wire type is a protocol error that names the struct, the field and what arrived.
 */
import { ThriftMap, ThriftProtocolError, ThriftStruct, type ThriftValue } from './binary-protocol.js';

class StructView {
  constructor(
    private readonly fields: ThriftStruct,
    private readonly name: string,
  ) {}

  private get(id: number, field: string, required: boolean): ThriftValue | undefined {
    const value = this.fields.fields.get(id);
    if (value === undefined && required) throw new ThriftProtocolError(`${this.name}.${field} (field ${id}) is required but missing`);
    return value;
  }

  private wrong(id: number, field: string, expected: string, value: ThriftValue): never {
    const arrived = value instanceof ThriftStruct ? 'struct' : value instanceof ThriftMap ? 'map' : Array.isArray(value) ? 'list' : Buffer.isBuffer(value) ? 'string' : typeof value;
    throw new ThriftProtocolError(`${this.name}.${field} (field ${id}) must be ${expected}, got ${arrived}`);
  }

  int(id: number, field: string): number;
  int(id: number, field: string, required: false): number | undefined;
  // i16 and i32 both arrive as numbers; the field ids already say which one the IDL meant.
  int(id: number, field: string, required = true): number | undefined {
    const value = this.get(id, field, required);
    if (value === undefined || typeof value === 'number') return value;
    return this.wrong(id, field, 'an integer (i16/i32)', value);
  }

  i64(id: number, field: string, required = true): bigint | undefined {
    const value = this.get(id, field, required);
    if (value === undefined || typeof value === 'bigint') return value;
    return this.wrong(id, field, 'i64', value);
  }

  bool(id: number, field: string): boolean | undefined {
    const value = this.get(id, field, false);
    if (value === undefined || typeof value === 'boolean') return value;
    return this.wrong(id, field, 'bool', value);
  }

  binary(id: number, field: string): Buffer;
  binary(id: number, field: string, required: false): Buffer | undefined;
  binary(id: number, field: string, required = true): Buffer | undefined {
    const value = this.get(id, field, required);
    if (value === undefined || Buffer.isBuffer(value)) return value;
    return this.wrong(id, field, 'string/binary', value);
  }

  string(id: number, field: string): string;
  string(id: number, field: string, required: false): string | undefined;
  string(id: number, field: string, required = true): string | undefined {
    return required ? this.binary(id, field).toString('utf8') : this.binary(id, field, false)?.toString('utf8');
  }

  struct(id: number, field: string, typeName: string): StructView {
    const value = this.get(id, field, true)!;
    if (value instanceof ThriftStruct) return new StructView(value, typeName);
    return this.wrong(id, field, 'struct', value);
  }

  stringList(id: number, field: string): string[] | undefined {
    const value = this.get(id, field, false);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) return this.wrong(id, field, 'list<string>', value);
    return value.map((entry) => (Buffer.isBuffer(entry) ? entry.toString('utf8') : this.wrong(id, field, 'list<string>', value)));
  }

  stringMap(id: number, field: string): Map<string, string> {
    const value = this.get(id, field, false);
    if (value === undefined) return new Map();
    if (!(value instanceof ThriftMap)) return this.wrong(id, field, 'map<string,string>', value);
    const map = new Map<string, string>();
    for (const [key, entry] of value.entries) {
      if (!Buffer.isBuffer(key) || !Buffer.isBuffer(entry)) return this.wrong(id, field, 'map<string,string>', value);
      map.set(key.toString('utf8'), entry.toString('utf8'));
    }
    return map;
  }
}

/** The arguments struct of every TCLIService call holds the request as field 1. */
export function requestOf(args: ThriftStruct, method: string): StructView {
  return new StructView(args, `${method}_args`).struct(1, 'req', `T${method}Req`);
}

export interface HandleIdentifier {
  guid: Buffer;
  secret: Buffer;
}

function handleIdentifier(view: StructView, id: number, field: string): HandleIdentifier {
  const handle = view.struct(id, field, 'THandleIdentifier');
  return { guid: handle.binary(1, 'guid'), secret: handle.binary(2, 'secret') };
}

export function sessionHandle(req: StructView): HandleIdentifier {
  return handleIdentifier(req.struct(1, 'sessionHandle', 'TSessionHandle'), 1, 'sessionId');
}

export function operationHandle(req: StructView): HandleIdentifier {
  return handleIdentifier(req.struct(1, 'operationHandle', 'TOperationHandle'), 1, 'operationId');
}

export interface OpenSessionRequest {
  clientProtocol: number;
  username: string | undefined;
  password: string | undefined;
  configuration: Map<string, string>;
}

export function openSessionRequest(req: StructView): OpenSessionRequest {
  return {
    clientProtocol: req.int(1, 'client_protocol'),
    username: req.string(2, 'username', false),
    password: req.string(3, 'password', false),
    configuration: req.stringMap(4, 'configuration'),
  };
}

export interface ExecuteStatementRequest {
  session: HandleIdentifier;
  statement: string;
  confOverlay: Map<string, string>;
  runAsync: boolean;
  /** TExecuteStatementReq.queryTimeout (seconds, 0 = none). */
  queryTimeoutSeconds: number;
}

export function executeStatementRequest(req: StructView): ExecuteStatementRequest {
  return {
    session: sessionHandle(req),
    statement: req.string(2, 'statement'),
    confOverlay: req.stringMap(3, 'confOverlay'),
    runAsync: req.bool(4, 'runAsync') ?? false,
    queryTimeoutSeconds: Number(req.i64(5, 'queryTimeout', false) ?? 0n),
  };
}

export interface FetchResultsRequest {
  operation: HandleIdentifier;
  orientation: number;
  maxRows: number;
  fetchType: number;
}

export function fetchResultsRequest(req: StructView): FetchResultsRequest {
  const maxRows = req.i64(3, 'maxRows')!;
  return {
    operation: operationHandle(req),
    orientation: req.int(2, 'orientation'),
    // Anything beyond 2^31 rows is "as many as you like"; clamp before it becomes a Number.
    maxRows: maxRows > 0x7fffffffn ? 0x7fffffff : Number(maxRows),
    fetchType: req.int(4, 'fetchType', false) ?? 0,
  };
}

/** TGetSchemasReq { 1: sessionHandle, 2: catalogName, 3: schemaName }; the catalog is ignored, as Hive does. */
export function getSchemasRequest(req: StructView): { schemaName: string | undefined } {
  return { schemaName: req.string(3, 'schemaName', false) };
}

/** TGetTablesReq { 1: sessionHandle, 2: catalogName, 3: schemaName, 4: tableName, 5: tableTypes }. */
export function getTablesRequest(req: StructView): { schemaName: string | undefined; tableName: string | undefined; tableTypes: string[] | undefined } {
  return {
    schemaName: req.string(3, 'schemaName', false),
    tableName: req.string(4, 'tableName', false),
    tableTypes: req.stringList(5, 'tableTypes'),
  };
}

/** TGetColumnsReq { 1: sessionHandle, 2: catalogName, 3: schemaName, 4: tableName, 5: columnName }; the catalog is ignored, as Hive does. */
export function getColumnsRequest(req: StructView): { schemaName: string | undefined; tableName: string | undefined; columnName: string | undefined } {
  return {
    schemaName: req.string(3, 'schemaName', false),
    tableName: req.string(4, 'tableName', false),
    columnName: req.string(5, 'columnName', false),
  };
}

export function getInfoType(req: StructView): number {
  return req.int(2, 'infoType');
}

export { StructView };

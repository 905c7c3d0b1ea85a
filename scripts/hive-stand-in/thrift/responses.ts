/**
 * Writers for the TCLIService response structs, by the field ids of TCLIService.thrift. Each
 * reply is `<Method>_result { 0: success }` inside a REPLY message; protocol failures become an
 * EXCEPTION message carrying a TApplicationException, as any Thrift server answers them.
 */
import { MessageType, TType, ThriftWriter, finishMessage, type EncodedMessage } from './binary-protocol.js';
import type { HandleIdentifier } from './requests.js';

/** TCLIService.thrift enums, as the stand-in uses them. */
export const TStatusCode = { SUCCESS: 0, SUCCESS_WITH_INFO: 1, STILL_EXECUTING: 2, ERROR: 3, INVALID_HANDLE: 4 } as const;
export const TOperationState = {
  INITIALIZED: 0,
  RUNNING: 1,
  FINISHED: 2,
  CANCELED: 3,
  CLOSED: 4,
  ERROR: 5,
  UNKNOWN: 6,
  PENDING: 7,
  TIMEDOUT: 8,
} as const;
export type OperationStateCode = (typeof TOperationState)[keyof typeof TOperationState];
export const TOperationType = { EXECUTE_STATEMENT: 0, GET_CATALOGS: 2, GET_SCHEMAS: 3, GET_TABLES: 4, GET_TABLE_TYPES: 5, GET_COLUMNS: 6 } as const;
export type OperationTypeCode = (typeof TOperationType)[keyof typeof TOperationType];
export const TApplicationExceptionType = { UNKNOWN_METHOD: 1, PROTOCOL_ERROR: 7, INTERNAL_ERROR: 6 } as const;

export interface Status {
  code: (typeof TStatusCode)[keyof typeof TStatusCode];
  sqlState?: string;
  errorCode?: number;
  errorMessage?: string;
  infoMessages?: string[];
}

export const SUCCESS: Status = { code: TStatusCode.SUCCESS };

export type BodyWriter = (w: ThriftWriter) => void;

/** A REPLY message whose `success` struct is written by `body`. */
export function reply(method: string, seqid: number, body: BodyWriter, sizeHint?: number): EncodedMessage {
  const w = new ThriftWriter(sizeHint);
  const seqidOffset = w.messageHeader(method, MessageType.REPLY, seqid);
  w.field(TType.STRUCT, 0);
  body(w);
  w.stop();
  return finishMessage(w, seqidOffset);
}

export function applicationException(method: string, seqid: number, type: number, message: string): EncodedMessage {
  const w = new ThriftWriter();
  const seqidOffset = w.messageHeader(method, MessageType.EXCEPTION, seqid);
  w.field(TType.STRING, 1);
  w.string(message);
  w.field(TType.I32, 2);
  w.i32(type);
  w.stop();
  return finishMessage(w, seqidOffset);
}

export function writeStatus(w: ThriftWriter, status: Status): void {
  w.field(TType.STRUCT, 1);
  w.field(TType.I32, 1);
  w.i32(status.code);
  if (status.infoMessages) {
    w.field(TType.LIST, 2);
    w.listBegin(TType.STRING, status.infoMessages.length);
    for (const message of status.infoMessages) w.string(message);
  }
  if (status.sqlState !== undefined) {
    w.field(TType.STRING, 3);
    w.string(status.sqlState);
  }
  if (status.errorCode !== undefined) {
    w.field(TType.I32, 4);
    w.i32(status.errorCode);
  }
  if (status.errorMessage !== undefined) {
    w.field(TType.STRING, 5);
    w.string(status.errorMessage);
  }
  w.stop();
}

/** Most responses are `{1: status}` plus optional fields; this is the status-only shape. */
export const statusOnly =
  (status: Status): BodyWriter =>
  (w) => {
    writeStatus(w, status);
    w.stop();
  };

function writeHandleIdentifier(w: ThriftWriter, id: HandleIdentifier): void {
  w.field(TType.STRING, 1);
  w.binary(id.guid);
  w.field(TType.STRING, 2);
  w.binary(id.secret);
  w.stop();
}

export function openSessionBody(status: Status, protocol: number, session?: HandleIdentifier, configuration?: Map<string, string>): BodyWriter {
  return (w) => {
    writeStatus(w, status);
    w.field(TType.I32, 2);
    w.i32(protocol);
    if (session) {
      w.field(TType.STRUCT, 3);
      w.field(TType.STRUCT, 1);
      writeHandleIdentifier(w, session);
      w.stop();
    }
    if (configuration) {
      w.field(TType.MAP, 4);
      w.mapBegin(TType.STRING, TType.STRING, configuration.size);
      for (const [key, value] of configuration) {
        w.string(key);
        w.string(value);
      }
    }
    w.stop();
  };
}

export interface OperationHandleOut {
  id: HandleIdentifier;
  type: OperationTypeCode;
  hasResultSet: boolean;
}

function writeOperationHandle(w: ThriftWriter, fieldId: number, handle: OperationHandleOut): void {
  w.field(TType.STRUCT, fieldId);
  w.field(TType.STRUCT, 1);
  writeHandleIdentifier(w, handle.id);
  w.field(TType.I32, 2);
  w.i32(handle.type);
  w.field(TType.BOOL, 3);
  w.bool(handle.hasResultSet);
  w.stop();
}

/** ExecuteStatement and the metadata calls (GetSchemas, GetTables …) all answer `{1: status, 2: operationHandle}`. */
export function operationBody(status: Status, handle?: OperationHandleOut): BodyWriter {
  return (w) => {
    writeStatus(w, status);
    if (handle) writeOperationHandle(w, 2, handle);
    w.stop();
  };
}

/** TGetInfoValue is a union: names are strings, limits are lengths. */
export type InfoValue = { stringValue: string } | { lenValue: bigint };

export function getInfoBody(status: Status, value: InfoValue): BodyWriter {
  return (w) => {
    writeStatus(w, status);
    w.field(TType.STRUCT, 2);
    if ('stringValue' in value) {
      w.field(TType.STRING, 1);
      w.string(value.stringValue);
    } else {
      w.field(TType.I64, 6);
      w.i64(value.lenValue);
    }
    w.stop();
    w.stop();
  };
}

/** TProgressUpdateResp. */
export interface ProgressOut {
  headerNames: string[];
  rows: string[][];
  progressedPercentage: number;
  status: number;
  footerSummary: string;
  startTime: number;
}

export interface OperationStatusOut {
  /** Present when the client asked getProgressUpdate (protocol V10+). */
  progress?: ProgressOut;
  state: OperationStateCode;
  sqlState?: string;
  errorCode?: number;
  errorMessage?: string;
  startedMs: number;
  completedMs?: number;
  hasResultSet: boolean;
}

export function operationStatusBody(status: Status, out?: OperationStatusOut): BodyWriter {
  return (w) => {
    writeStatus(w, status);
    if (out) {
      w.field(TType.I32, 2);
      w.i32(out.state);
      if (out.sqlState !== undefined) {
        w.field(TType.STRING, 3);
        w.string(out.sqlState);
      }
      if (out.errorCode !== undefined) {
        w.field(TType.I32, 4);
        w.i32(out.errorCode);
      }
      if (out.errorMessage !== undefined) {
        w.field(TType.STRING, 5);
        w.string(out.errorMessage);
      }
      w.field(TType.I64, 7);
      w.i64(BigInt(out.startedMs));
      if (out.completedMs !== undefined) {
        w.field(TType.I64, 8);
        w.i64(BigInt(out.completedMs));
      }
      w.field(TType.BOOL, 9);
      w.bool(out.hasResultSet);
      if (out.progress) writeProgress(w, out.progress);
    }
    w.stop();
  };
}

/** TGetOperationStatusResp.progressUpdateResponse (field 10). */
function writeProgress(w: ThriftWriter, progress: ProgressOut): void {
  w.field(TType.STRUCT, 10);
  w.field(TType.LIST, 1);
  w.listBegin(TType.STRING, progress.headerNames.length);
  for (const name of progress.headerNames) w.string(name);
  w.field(TType.LIST, 2);
  w.listBegin(TType.LIST, progress.rows.length);
  for (const row of progress.rows) {
    w.listBegin(TType.STRING, row.length);
    for (const cell of row) w.string(cell);
  }
  w.field(TType.DOUBLE, 3);
  w.double(progress.progressedPercentage);
  w.field(TType.I32, 4);
  w.i32(progress.status);
  w.field(TType.STRING, 5);
  w.string(progress.footerSummary);
  w.field(TType.I64, 6);
  w.i64(BigInt(progress.startTime));
  w.stop();
}

export function getQueryIdBody(queryId: string): BodyWriter {
  return (w) => {
    w.field(TType.STRING, 1);
    w.string(queryId);
    w.stop();
  };
}

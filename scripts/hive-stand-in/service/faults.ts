/**
 * Fault hooks for tests: make operations whose SQL matches slow, failing, or cut off mid-fetch.
 * Faults are claimed by an operation when it is created (so removing a fault never changes an
 * operation already running), and `times` limits how many operations one fault affects.
 * The same specs arrive as JSON through the admin listener, with `match` as a regex source.
 */
import { randomUUID } from 'node:crypto';

interface FaultBase {
  /** Which statements: a RegExp, or a regex source matched case-insensitively. @default - every statement */
  match?: RegExp | string;
  /** How many operations this fault affects. @default - unlimited */
  times?: number;
}

export type FaultSpec = FaultBase &
  (
    | {
        /**
         * The operation stays PENDING this long ('queue': waiting for a slot on the cluster),
         * RUNNING this long before DuckDB starts ('execute'; in the first FetchResults for a
         * fetch task), or every FetchResults waits this long ('fetch').
         */
        kind: 'delay';
        ms: number;
        during?: 'queue' | 'execute' | 'fetch';
        /** With 'fetch': only FetchResults calls after this many wait. @default 0 */
        afterFetches?: number;
      }
    | {
        /**
         * The operation fails: at execution (ERROR state, or ERROR_STATUS for a synchronous
         * ExecuteStatement), or — with `afterFetches` — on the FetchResults call after that many.
         */
        kind: 'fail';
        message?: string;
        sqlState?: string;
        errorCode?: number;
        afterFetches?: number;
      }
    | {
        /** After `afterFetches` FetchResults calls (default 1), the next one gets half a reply and a reset connection. */
        kind: 'drop-during-fetch';
        afterFetches?: number;
      }
    | {
        /**
         * After `afterFetches` FetchResults calls (default 0), the next row set lacks its last
         * column: a row set no client can match to the schema (a broken server or proxy).
         */
        kind: 'malformed-rowset';
        afterFetches?: number;
      }
  );

export interface FaultHandle {
  readonly id: string;
  readonly spec: FaultSpec;
  /** Operations this fault has affected so far. */
  readonly hits: number;
  remove(): void;
}

/**
 * What a failed Tez job reads like: Hive's reason first, then the cluster's internals (vertex,
 * task and YARN application ids, HDFS paths with the name node's host, data node addresses),
 * which a client must not hand on to its users.
 */
export const DEFAULT_FAIL = {
  message:
    'Error while processing statement: FAILED: Execution Error, return code 2 from org.apache.hadoop.hive.ql.exec.tez.TezTask. ' +
    'Vertex failed, vertexName=Map 1, vertexId=vertex_1700000000000_0042_1_00, diagnostics=[Task failed, taskId=task_1700000000000_0042_1_00_000003, ' +
    'diagnostics=[TaskAttempt 0 failed, info=[Error: Error while running task ( failure ) : attempt_1700000000000_0042_1_00_000003_0:' +
    'java.io.IOException: Cannot obtain block length for LocatedBlock{BP-1234-10.0.3.17-1600000000000:blk_1073741825_1001; ' +
    'locs=[DatanodeInfoWithStorage[10.0.3.21:9866,DS-1,DISK]]} of hdfs://hadoop-nn-01.enos.internal:8020/warehouse/tablespace/managed/hive/enos.db/measurement/000000_0 ' +
    'on worker hadoop-dn-07.enos.internal (injected fault)]]] (application_1700000000000_0042)',
  sqlState: '08S01',
  errorCode: 2,
};

interface Registered {
  handle: FaultHandle & { hits: number };
  pattern: RegExp | undefined;
}

export class FaultRegistry {
  private readonly faults = new Map<string, Registered>();

  add(spec: FaultSpec): FaultHandle {
    validate(spec);
    const id = randomUUID();
    const handle = { id, spec, hits: 0, remove: () => void this.faults.delete(id) };
    const pattern = spec.match === undefined ? undefined : typeof spec.match === 'string' ? new RegExp(spec.match, 'i') : spec.match;
    this.faults.set(id, { handle, pattern });
    return handle;
  }

  remove(id: string): boolean {
    return this.faults.delete(id);
  }

  clear(): void {
    this.faults.clear();
  }

  list(): FaultHandle[] {
    return [...this.faults.values()].map((f) => f.handle);
  }

  /** The faults a new operation running `sql` is subject to; counts it against each fault's `times`. */
  claim(sql: string): FaultSpec[] {
    const claimed: FaultSpec[] = [];
    for (const { handle, pattern } of this.faults.values()) {
      if (pattern) {
        pattern.lastIndex = 0;
        if (!pattern.test(sql)) continue;
      }
      if (handle.spec.times !== undefined && handle.hits >= handle.spec.times) continue;
      handle.hits++;
      claimed.push(handle.spec);
    }
    return claimed;
  }
}

function validate(spec: FaultSpec): void {
  const kinds = ['delay', 'fail', 'drop-during-fetch', 'malformed-rowset'];
  if (!kinds.includes(spec.kind)) throw new Error(`fault kind must be one of ${kinds.join(', ')}, got ${JSON.stringify(spec.kind)}`);
  if (spec.match !== undefined && !(spec.match instanceof RegExp) && typeof spec.match !== 'string') {
    throw new Error(`fault match must be a RegExp or a regex source string, got ${typeof spec.match}`);
  }
  if (typeof spec.match === 'string') new RegExp(spec.match); // throws a SyntaxError naming the problem
  const nonNegative = (name: string, value: unknown) => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
      throw new Error(`fault ${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
  };
  nonNegative('times', spec.times);
  if (spec.kind === 'delay') {
    if (spec.ms === undefined) throw new Error('a delay fault needs ms');
    nonNegative('ms', spec.ms);
    if (spec.during !== undefined && !['queue', 'execute', 'fetch'].includes(spec.during)) {
      throw new Error(`delay fault during must be 'queue', 'execute' or 'fetch', got ${JSON.stringify(spec.during)}`);
    }
    nonNegative('afterFetches', spec.afterFetches);
  } else {
    nonNegative('afterFetches', spec.afterFetches);
  }
}

/**
 * Starts a HiveServer2 stand-in: one seeded DuckDB database served by any number of listeners
 * (binary PLAIN, binary NOSASL, HTTP), plus fault hooks, inspection and an optional admin
 * listener. Every listener binds to loopback.
 */
import { startAdminListener } from './admin-listener.js';
import { HiveDatabase, type QueryResult } from './engine/hive-database.js';
import { CliService, type CommandInvocation, type OperationInfo } from './service/cli-service.js';
import { Cluster, type ClusterOptions, type HiveVersion } from './service/cluster.js';
import { FaultRegistry } from './service/faults.js';
import { startBinaryListener } from './transport/binary-listener.js';
import { startHttpListener } from './transport/http-listener.js';
import type { RunningListener } from './transport/listen.js';

export type Transport = 'binary' | 'http';
export type Auth = 'PLAIN' | 'NOSASL';

export interface ListenerOptions {
  /** @default 'binary' */
  transport?: Transport;
  /** PLAIN checks `users` (SASL on binary, Basic on HTTP); NOSASL checks nothing. @default 'PLAIN' */
  auth?: Auth;
  /** @default 0 - a free port */
  port?: number;
  /** HTTP only: the Thrift endpoint (hive.server2.thrift.http.path). @default '/cliservice' */
  path?: string;
}

export interface ListenerInfo {
  transport: Transport;
  auth: Auth;
  host: string;
  port: number;
  /** HTTP only. */
  path?: string;
}

export interface HiveStandInOptions extends ClusterOptions {
  /** @default one binary PLAIN listener on a free port */
  listeners?: ListenerOptions[];
  /** Accounts for PLAIN auth, name → password. @default { hive: 'hive' } */
  users?: Record<string, string>;
  /** Rows of `enos.measurement`. @default 100_000 */
  seedRows?: number;
  /** Persist the database to this DuckDB file, re-used while it holds the same seed. @default - in memory */
  dbFile?: string;
  /** Most rows one FetchResults returns, whatever maxRows asks (HiveServer2's default). @default 10_000 */
  maxFetchRows?: number;
  /** Longest a GetOperationStatus call waits for a running operation. @default 5_000 */
  longPollingMaxMs?: number;
  /** Largest request accepted, in bytes. @default 104_857_600 (hive.server2.thrift.max.message.size) */
  maxMessageBytes?: number;
  /** Start the admin JSON listener (faults, operations, queries) on this port. @default - none */
  adminPort?: number;
  /** Where to report faults fired and connections refused. @default - nowhere */
  log?: (line: string) => void;
}

export interface HiveStandIn {
  readonly listeners: ListenerInfo[];
  readonly hiveVersion: HiveVersion;
  /** The admin listener's base URL, when `adminPort` was given. */
  readonly adminUrl: string | undefined;
  readonly seedRows: number;
  /** Whether `dbFile` already held this seed and was used as it was. */
  readonly reusedDbFile: boolean;
  readonly faults: FaultRegistry;
  /** Runs SQL directly on DuckDB (no HiveQL translation), for tests to compare against. */
  query(sql: string): Promise<QueryResult>;
  /** Recent operations (newest last) with their state and what DuckDB is doing. */
  operations(): OperationInfo[];
  /**
   * Statements HiveServer2 would have run as commands (set, reset, dfs, add, list, delete,
   * compile, reload, llap …) rather than SQL, oldest first; refused ones included.
   */
  commands(): CommandInvocation[];
  /** Sessions currently open. */
  openSessions(): number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
export const DEFAULT_SEED_ROWS = 100_000;

export async function startHiveStandIn(options: HiveStandInOptions = {}): Promise<HiveStandIn> {
  const seedRows = options.seedRows ?? DEFAULT_SEED_ROWS;
  const users = new Map(Object.entries(options.users ?? { hive: 'hive' }));
  const maxMessageBytes = options.maxMessageBytes ?? 104_857_600;
  const log = options.log ?? (() => undefined);
  const database = await HiveDatabase.open({ seedRows, ...(options.dbFile !== undefined ? { dbFile: options.dbFile } : {}) });
  const faults = new FaultRegistry();
  const cluster = new Cluster(options);
  const service = new CliService(database, faults, {
    cluster,
    maxFetchRows: options.maxFetchRows ?? 10_000,
    longPollingMaxMs: options.longPollingMaxMs ?? 5_000,
  });

  const running: RunningListener[] = [];
  const listeners: ListenerInfo[] = [];
  let adminUrl: string | undefined;
  try {
    for (const spec of options.listeners ?? [{}]) {
      const transport = spec.transport ?? 'binary';
      const auth = spec.auth ?? 'PLAIN';
      const common = { auth, host: HOST, port: spec.port ?? 0, users, maxMessageBytes, service, log };
      if (transport === 'http') {
        const path = spec.path ?? '/cliservice';
        const listener = await startHttpListener({ ...common, path });
        running.push(listener);
        listeners.push({ transport, auth, host: HOST, port: listener.port, path });
      } else {
        const listener = await startBinaryListener(common);
        running.push(listener);
        listeners.push({ transport, auth, host: HOST, port: listener.port });
      }
    }
    if (options.adminPort !== undefined) {
      const admin = await startAdminListener({ host: HOST, port: options.adminPort, faults, service, database });
      running.push(admin);
      adminUrl = `http://${HOST}:${admin.port}`;
    }
  } catch (error) {
    await Promise.all(running.map((l) => l.close()));
    database.close();
    throw error;
  }

  let closed: Promise<void> | undefined;
  return {
    listeners,
    hiveVersion: cluster.profile.version,
    adminUrl,
    seedRows,
    reusedDbFile: database.seeded.reused,
    faults,
    query: (sql) => database.query(sql),
    operations: () => service.inspect(),
    commands: () => service.commands(),
    openSessions: () => service.openSessions,
    close() {
      closed ??= (async () => {
        await Promise.all(running.map((l) => l.close()));
        await service.closeAll();
        database.close();
      })();
      return closed;
    },
  };
}

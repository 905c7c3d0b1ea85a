/**
 * Starts a HiveServer2 stand-in: one seeded DuckDB database served by any number of listeners
 * (binary or HTTP; PLAIN, NOSASL or KERBEROS; each optionally over TLS), plus fault hooks,
 * inspection and an optional admin listener. Every listener binds to loopback.
 */
import { startAdminListener } from './admin-listener.js';
import { HiveDatabase, type QueryResult } from './engine/hive-database.js';
import { CliService, type CommandInvocation, type OperationInfo } from './service/cli-service.js';
import { Cluster, type ClusterOptions, type HiveVersion } from './service/cluster.js';
import { FaultRegistry } from './service/faults.js';
import { startBinaryListener } from './transport/binary-listener.js';
import { startGssAcceptor, type GssAcceptor, type GssAcceptorOptions } from './transport/gss-acceptor.js';
import { startHttpListener, type HttpAuthentication } from './transport/http-listener.js';
import type { RunningListener } from './transport/listen.js';
import { generatedTlsIdentity, type TlsIdentity } from './transport/tls-identity.js';

export type Transport = 'binary' | 'http';
export type Auth = 'PLAIN' | 'NOSASL' | 'KERBEROS';
export type { HttpAuthentication, TlsIdentity };

export interface ListenerOptions {
  /** @default 'binary' */
  transport?: Transport;
  /**
   * PLAIN checks `users` (SASL on binary, Basic on HTTP); KERBEROS takes Kerberos tickets for
   * `kerberos.principal` (SASL GSSAPI on binary, SPNEGO on HTTP); NOSASL checks nothing.
   * @default 'PLAIN'
   */
  auth?: Auth;
  /** Serve over TLS with the stand-in's certificate (hive.server2.use.SSL). @default false */
  tls?: boolean;
  /**
   * Binary KERBEROS only: hive.server2.thrift.sasl.qop, the SASL security layer offered. Only
   * `auth` can complete (the stand-in does not wrap frames); the others show how a client
   * that cannot do them fails. @default 'auth'
   */
  saslQop?: 'auth' | 'auth-int' | 'auth-conf';
  /** HTTP only: hive.server2.thrift.http.cookie.auth.enabled. @default true */
  cookieAuth?: boolean;
  /** HTTP only: hive.server2.thrift.http.cookie.max.age, seconds. @default 86400 */
  cookieMaxAgeSeconds?: number;
  /** @default 0 - a free port */
  port?: number;
  /** HTTP only: the Thrift endpoint (hive.server2.thrift.http.path). @default '/cliservice' */
  path?: string;
}

export interface ListenerInfo {
  transport: Transport;
  auth: Auth;
  tls: boolean;
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
  /** Certificate and key for `tls` listeners. @default - generated, self-signed for 127.0.0.1 and localhost */
  tlsIdentity?: TlsIdentity;
  /** Service principal, keytab and krb5.conf for KERBEROS listeners (hive.server2.authentication.kerberos.*). */
  kerberos?: GssAcceptorOptions;
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
  /** The PEM a client must trust for the `tls` listeners, when there are any. */
  readonly tlsCa: string | undefined;
  /** How each authenticated HTTP request got in (cookie, basic, negotiate), oldest first. */
  httpAuthentications(): HttpAuthentication[];
  /** What a HiveServer2 restart does to HTTP auth cookies: none handed out so far verifies. */
  rotateCookieSecrets(): void;
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
  const specs = options.listeners ?? [{}];
  const authentications: HttpAuthentication[] = [];
  const cookieRotations: (() => void)[] = [];
  let adminUrl: string | undefined;
  let tlsIdentity: TlsIdentity | undefined;
  let gss: GssAcceptor | undefined;
  try {
    if (specs.some((spec) => spec.tls)) tlsIdentity = options.tlsIdentity ?? (await generatedTlsIdentity());
    if (specs.some((spec) => spec.auth === 'KERBEROS')) {
      if (!options.kerberos) throw new Error('a KERBEROS listener needs the `kerberos` option (service principal and keytab)');
      gss = await startGssAcceptor(options.kerberos);
    }
    for (const spec of specs) {
      const transport = spec.transport ?? 'binary';
      const auth = spec.auth ?? 'PLAIN';
      const tls = spec.tls ? tlsIdentity : undefined;
      const common = { auth, host: HOST, port: spec.port ?? 0, users, maxMessageBytes, service, log, ...(tls ? { tls } : {}), ...(gss ? { gss } : {}) };
      if (transport === 'http') {
        const path = spec.path ?? '/cliservice';
        const listener = await startHttpListener({
          ...common,
          path,
          ...(spec.cookieAuth !== undefined ? { cookieAuth: spec.cookieAuth } : {}),
          ...(spec.cookieMaxAgeSeconds !== undefined ? { cookieMaxAgeSeconds: spec.cookieMaxAgeSeconds } : {}),
          onAuthenticated: (entry) => authentications.push(entry),
        });
        running.push(listener);
        cookieRotations.push(() => listener.rotateCookieSecret());
        listeners.push({ transport, auth, tls: tls !== undefined, host: HOST, port: listener.port, path });
      } else {
        const listener = await startBinaryListener({ ...common, ...(spec.saslQop ? { saslQop: spec.saslQop } : {}) });
        running.push(listener);
        listeners.push({ transport, auth, tls: tls !== undefined, host: HOST, port: listener.port });
      }
    }
    if (options.adminPort !== undefined) {
      const admin = await startAdminListener({ host: HOST, port: options.adminPort, faults, service, database });
      running.push(admin);
      adminUrl = `http://${HOST}:${admin.port}`;
    }
  } catch (error) {
    await Promise.all(running.map((l) => l.close()));
    await gss?.close();
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
    tlsCa: tlsIdentity?.ca,
    httpAuthentications: () => [...authentications],
    rotateCookieSecrets: () => cookieRotations.forEach((rotate) => rotate()),
    close() {
      closed ??= (async () => {
        await Promise.all(running.map((l) => l.close()));
        await gss?.close();
        await service.closeAll();
        database.close();
      })();
      return closed;
    },
  };
}

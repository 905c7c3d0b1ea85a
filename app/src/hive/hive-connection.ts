/**
 * Opens hive-driver connections and sessions the way the configuration says (binary or HTTP
 * transport; PLAIN, NOSASL or Kerberos auth), with a timeout on every step. hive-driver reports
 * some failures only as 'error' events on the client (an HTTP 401, a reset socket) and would
 * otherwise leave the pending call hanging, so every connection gets a listener that fails the
 * connection's pending work instead.
 */
import http from 'node:http';
import hive from 'hive-driver';
import type { HiveConfig } from '../config/config.js';
import { withDeadline } from '../deadline.js';
import { AppError } from '../errors.js';

const { TCLIService, TCLIService_types } = hive.thrift;

export type HiveSession = Awaited<ReturnType<InstanceType<typeof hive.HiveClient>['openSession']>>;

export interface HiveConnection {
  readonly session: HiveSession;
  /** Rejects with the first connection-level error (socket reset, HTTP 401, close). */
  readonly broken: Promise<never>;
  /** Runs `call` with the configured per-call timeout, failing early if the connection breaks. */
  call<T>(what: string, call: () => Promise<T>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Protocol version we ask for; the server negotiates down and hive-driver copes with older. */
const CLIENT_PROTOCOL = TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 as number;

function authProviderFor(config: HiveConfig): DriverAuth {
  switch (config.auth) {
    case 'NOSASL':
      return new hive.auth.NoSaslAuthentication();
    case 'PLAIN':
      return config.transport === 'http'
        ? new hive.auth.PlainHttpAuthentication({ username: config.username, password: config.password })
        : new hive.auth.PlainTcpAuthentication({ username: config.username, password: config.password });
    case 'KERBEROS':
      // hive-driver's Kerberos support needs the optional native `kerberos` package and a
      // keytab-initialised ticket cache on the host; see app/README.md.
      throw new AppError('hive_unavailable', 503, 'Kerberos authentication to Hive is not available in this build');
  }
}

/** hive-driver's transport as its auth providers see it: TcpTransport hands out its net.Socket. */
interface DriverTransport {
  getTransport(): unknown;
}
interface DriverAuth {
  authenticate(transport: DriverTransport): Promise<DriverTransport>;
}

/**
 * The sockets behind one connection. hive-driver's close() only ends a TCP connection whose
 * handshake finished, and thrift's HTTP client has no close at all, so a handshake or call that
 * never answers would keep its socket open for good: one leaked descriptor per failed readiness
 * probe or export. The auth provider sees the TCP transport first, and HTTP calls go through an
 * agent of our own, so `destroy` can reach every socket on every way out.
 */
function socketsOf(config: HiveConfig) {
  let transport: DriverTransport | undefined;
  const agent = config.transport === 'http' ? new http.Agent({ keepAlive: true }) : undefined;
  return {
    agent,
    track(auth: DriverAuth): DriverAuth {
      return {
        authenticate(candidate) {
          transport = candidate;
          return auth.authenticate(candidate);
        },
      };
    },
    destroy(): void {
      agent?.destroy();
      const socket = transport?.getTransport() as { destroy?: unknown } | undefined;
      if (typeof socket?.destroy === 'function') (socket as { destroy(): void }).destroy();
    },
  };
}

function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number, extra?: Promise<never>): Promise<T> {
  const reason = () => new AppError('hive_unavailable', 503, `Hive did not answer ${what} within ${timeoutMs} ms`);
  return withDeadline(timeoutMs, () => (extra ? Promise.race([promise, extra]) : promise), { reason });
}

export async function openHiveConnection(config: HiveConfig): Promise<HiveConnection> {
  const client = new hive.HiveClient(TCLIService, TCLIService_types);
  let failBroken!: (error: Error) => void;
  const broken = new Promise<never>((_, reject) => {
    failBroken = reject;
  });
  broken.catch(() => undefined); // observed through `call`; never an unhandled rejection
  const onError = (error: Error) => failBroken(new AppError('hive_unavailable', 503, 'The connection to Hive failed', { cause: error }));
  client.on('error', onError);
  client.on('close', () => failBroken(new AppError('hive_unavailable', 503, 'The connection to Hive was closed')));
  client.on('timeout', () => failBroken(new AppError('hive_unavailable', 503, 'The connection to Hive timed out')));

  const sockets = socketsOf(config);
  const connectionProvider =
    config.transport === 'http' ? new hive.connections.HttpConnection() : new hive.connections.TcpConnection();
  const options =
    config.transport === 'http'
      ? { host: config.host, port: config.port, options: { path: config.httpPath, nodeOptions: { agent: sockets.agent } } }
      : { host: config.host, port: config.port };
  const release = () => {
    client.on('error', () => undefined); // late socket errors after close are expected
    client.close();
    sockets.destroy();
  };

  const call = <T>(what: string, fn: () => Promise<T>, timeoutMs = config.callTimeoutMs) =>
    withTimeout(what, fn(), timeoutMs, broken);

  try {
    await withTimeout(
      'the connection',
      client.connect(options, connectionProvider as never, sockets.track(authProviderFor(config)) as never).catch((error: unknown) => {
        throw new AppError('hive_unavailable', 503, 'Could not connect to Hive', { cause: error });
      }),
      config.callTimeoutMs,
    );
    const session = await call('OpenSession', () =>
      client.openSession({
        client_protocol: CLIENT_PROTOCOL,
        configuration: {
          ...Object.fromEntries(Object.entries(config.sessionConf).map(([key, value]) => [`set:hiveconf:${key}`, value])),
          ...(config.defaultDatabase ? { 'use:database': config.defaultDatabase } : {}),
        },
      }),
    );
    return {
      session,
      broken,
      call,
      async close() {
        await withTimeout('CloseSession', session.close(), Math.min(config.callTimeoutMs, 10_000), broken).catch(() => undefined);
        client.removeListener('error', onError);
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/** For /readyz: a session can be opened and the server answers GetInfo. */
export async function checkHiveReady(config: HiveConfig): Promise<void> {
  const connection = await openHiveConnection({ ...config, callTimeoutMs: Math.min(config.callTimeoutMs, 5_000) });
  try {
    await connection.call('GetInfo', () => connection.session.getInfo(TCLIService_types.TGetInfoType.CLI_DBMS_NAME as number));
  } finally {
    await connection.close();
  }
}

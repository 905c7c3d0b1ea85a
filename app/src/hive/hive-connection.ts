/**
 * Opens hive-driver connections and sessions the way the configuration says (binary or HTTP
 * transport; PLAIN, NOSASL or Kerberos auth), with a timeout on every step. hive-driver reports
 * some failures only as 'error' events on the client (an HTTP 401, a reset socket) and would
 * otherwise leave the pending call hanging, so every connection gets a listener that fails the
 * connection's pending work instead.
 */
import hive from 'hive-driver';
import type { HiveConfig } from '../config/config.js';
import { withDeadline } from '../deadline.js';
import { AppError } from '../errors.js';
import { hiveTransport, httpAgentFor, type DriverAuth, type DriverTransport } from './hive-transport.js';
import { openSessionError } from './session-settings.js';

const { TCLIService, TCLIService_types } = hive.thrift;

export type HiveSession = Awaited<ReturnType<InstanceType<typeof hive.HiveClient>['openSession']>>;

export interface HiveConnection {
  readonly session: HiveSession;
  /** thrift's generated client under hive-driver (fast-fetch.ts takes over its FetchResults decoding). */
  readonly thriftClient: unknown;
  /** Rejects with the first connection-level error (socket reset, HTTP 401, close). */
  readonly broken: Promise<never>;
  /** Runs `call` with the configured per-call timeout, failing early if the connection breaks. */
  call<T>(what: string, call: () => Promise<T>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/**
 * Protocol version we ask for; the server negotiates down. V11 (Hive 3.0+) describes TIMESTAMP
 * WITH LOCAL TIME ZONE columns by their own type id; before it they arrive as strings.
 */
const CLIENT_PROTOCOL = TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V11 as number;

/**
 * The sockets behind one connection. hive-driver's close() only ends a TCP connection whose
 * handshake finished, and thrift's HTTP client has no close at all, so a handshake or call that
 * never answers would keep its socket open for good: one leaked descriptor per failed readiness
 * probe or export. The auth provider sees the TCP transport first, and HTTP calls go through an
 * agent of our own, so `destroy` can reach every socket on every way out.
 */
function socketsOf(config: HiveConfig) {
  let transport: DriverTransport | undefined;
  const agent = httpAgentFor(config);
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

/**
 * The part of a connect failure worth showing the user: that TLS verification or authentication
 * failed. The details (certificate names, principals, hosts) belong to the cluster and stay in
 * the cause, which goes to the log.
 */
function connectFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (/CERT|SELF_SIGNED|ALTNAME|TLS|SSL/.test(code)) return `: TLS verification failed (${code})`;
  if (/^Authentication error/i.test(message)) return ': authentication failed';
  if (/kerberos|gss/i.test(`${(error as Error).name} ${message}`)) return ': Kerberos authentication failed';
  return '';
}

function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number, extra?: Promise<never>): Promise<T> {
  const reason = () => new AppError('hive_unavailable', 503, `Hive did not answer ${what} within ${timeoutMs} ms`);
  return withDeadline(timeoutMs, () => (extra ? Promise.race([promise, extra]) : promise), { reason });
}

/**
 * `configuration` is TOpenSessionReq.configuration (see session-settings.ts); without it the
 * session gets only the configured database and settings.
 */
export async function openHiveConnection(config: HiveConfig, configuration?: Record<string, string>): Promise<HiveConnection> {
  const client = new hive.HiveClient(TCLIService, TCLIService_types);
  let failBroken!: (error: Error) => void;
  const broken = new Promise<never>((_, reject) => {
    failBroken = reject;
  });
  broken.catch(() => undefined); // observed through `call`; never an unhandled rejection
  const onError = (error: Error) => failBroken(new AppError('hive_unavailable', 503, `The connection to Hive failed${connectFailure(error)}`, { cause: error }));
  client.on('error', onError);
  client.on('close', () => failBroken(new AppError('hive_unavailable', 503, 'The connection to Hive was closed')));
  client.on('timeout', () => failBroken(new AppError('hive_unavailable', 503, 'The connection to Hive timed out')));

  const sockets = socketsOf(config);
  const transport = hiveTransport(config, sockets.agent);
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
      transport
        .prepare()
        .then(() => client.connect(transport.options, transport.connectionProvider as never, sockets.track(transport.authProvider) as never))
        .catch((error: unknown) => {
          throw error instanceof AppError ? error : new AppError('hive_unavailable', 503, `Could not connect to Hive${connectFailure(error)}`, { cause: error });
        }),
      config.callTimeoutMs,
    );
    const session = await call('OpenSession', () =>
      client
        .openSession({
          client_protocol: CLIENT_PROTOCOL,
          configuration: configuration ?? {
            ...Object.fromEntries(Object.entries(config.sessionConf).map(([key, value]) => [`set:hiveconf:${key}`, value])),
            ...(config.defaultDatabase ? { 'use:database': config.defaultDatabase } : {}),
          },
        })
        .catch((error: unknown) => {
          // A refusal is a status with Hive's reason (StatusError); anything else is the link.
          if ((error as { name?: string }).name === 'Status Error') throw openSessionError((error as Error).message, error);
          throw error;
        }),
    );
    return {
      session,
      thriftClient: client.getClient(),
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

/**
 * For /readyz and for choosing session settings: a session can be opened and the server answers
 * GetInfo; resolves to its CLI_DBMS_VER (`3.1.3`).
 */
export async function checkHiveReady(config: HiveConfig): Promise<string> {
  const connection = await openHiveConnection({ ...config, callTimeoutMs: Math.min(config.callTimeoutMs, 5_000) });
  try {
    const info = await connection.call('GetInfo', () => connection.session.getInfo(TCLIService_types.TGetInfoType.CLI_DBMS_VER as number));
    return String(info.getValue());
  } finally {
    await connection.close();
  }
}

/**
 * A TCP server that accepts connections and never answers: what a storage endpoint that stopped
 * responding looks like to a client. For tests that prove every call has a deadline. With
 * `tls: true` it completes the TLS handshake (self-signed certificate for 127.0.0.1, handed to
 * the test to trust) and then never answers, for clients that refuse plain HTTP (bearer tokens).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTlsServer } from 'node:tls';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import selfsigned from 'selfsigned';

export interface SilentEndpoint {
  /** `http://127.0.0.1:<port>`, or `https://…` with `tls`. */
  url: string;
  /** PEM of the certificate a TLS client must trust (`tls` only). */
  caCertPem?: string;
  /** Connections accepted so far. */
  readonly accepted: number;
}

export async function withSilentServer<T>(use: (url: string, endpoint: SilentEndpoint) => Promise<T>, options: { tls?: boolean } = {}): Promise<T> {
  const sockets: Socket[] = [];
  const keep = (socket: Socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.resume();
  };
  let server: Server;
  let caCertPem: string | undefined;
  if (options.tls) {
    const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    caCertPem = pems.cert;
    server = createTlsServer({ cert: pems.cert, key: pems.private }, keep);
  } else {
    server = createServer(keep);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const endpoint: SilentEndpoint = {
      url,
      ...(caCertPem ? { caCertPem } : {}),
      get accepted() {
        return sockets.length;
      },
    };
    return await use(url, endpoint);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** What a partly silent HTTP server answers; `undefined` leaves the request hanging for good. */
export type SilentAnswer = (request: { method: string; url: string }) => { status: number; headers?: Record<string, string>; body?: string } | undefined;

/**
 * An HTTP server that answers only what `answer` says it should and leaves every other request
 * hanging: e.g. a Table endpoint that still says "table exists" but never answers a read, so
 * the calls behind the client's table check meet the silence.
 */
export async function withPartlySilentServer<T>(answer: SilentAnswer, use: (url: string) => Promise<T>): Promise<T> {
  const server = createHttpServer((request, response) => {
    request.resume();
    const reply = answer({ method: request.method ?? 'GET', url: request.url ?? '/' });
    if (reply) response.writeHead(reply.status, reply.headers).end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await use(`http://127.0.0.1:${port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Azure Table's answer to a create of a table that exists (the SDK's createTable then succeeds). */
export const tableAlreadyExists: SilentAnswer = ({ method, url }) =>
  method === 'POST' && /\/Tables(\?|$)/.test(url)
    ? {
        status: 409,
        headers: { 'content-type': 'application/json;odata=minimalmetadata', 'x-ms-error-code': 'TableAlreadyExists' },
        body: JSON.stringify({ 'odata.error': { code: 'TableAlreadyExists', message: { lang: 'en-US', value: 'The table specified already exists.' } } }),
      }
    : undefined;

/**
 * A TableClient for `tableName` on a silent (or partly silent) endpoint, signed with a throwaway
 * key: the requests are well formed, only the answers never come. With `losesAborts`, a pipeline
 * policy takes the abort signal off every request before it is sent — an SDK layer that loses
 * the signal — so only a deadline that settles its caller by itself (`withDeadline`) still ends
 * the wait; a deadline that merely aborts a signal leaves the call hanging.
 */
export function silentTableClient(url: string, tableName: string, options: { losesAborts?: boolean } = {}): TableClient {
  return new TableClient(`${url}/devstoreaccount1`, tableName, new AzureNamedKeyCredential('devstoreaccount1', randomBytes(32).toString('base64')), {
    allowInsecureConnection: true,
    ...(options.losesAborts
      ? {
          additionalPolicies: [
            {
              position: 'perRetry',
              policy: {
                name: 'loseTheAbortSignal',
                sendRequest: (request, next) => {
                  request.abortSignal = undefined;
                  return next(request);
                },
              },
            },
          ],
        }
      : {}),
  });
}

/**
 * A Table store built (`makeStore`) on a TableClient for `tableName` on an endpoint that says the
 * table exists and then never answers again, for the deadline tests of each store.
 */
export function withSilentTableStore<S>(
  tableName: string,
  makeStore: (client: TableClient) => S,
  use: (store: S) => Promise<void>,
  client: { losesAborts?: boolean } = {},
): Promise<void> {
  return withPartlySilentServer(tableAlreadyExists, (url) => use(makeStore(silentTableClient(url, tableName, client))));
}

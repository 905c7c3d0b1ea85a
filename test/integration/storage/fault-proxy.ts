/**
 * A TCP proxy on loopback in front of a real service, for storage faults a test can trigger:
 * after a given number of request bytes it cuts every connection and refuses new ones, the
 * way a storage account looks when the network or the service goes away mid-upload; or it
 * keeps forwarding requests but swallows the answers, the way a half-dead connection hangs
 * (at once, or once a given number of request bytes has passed); or it cuts everything when a
 * given request comes (e.g. the second block-list commit). `heal()` brings the service back.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Client-to-service bytes forwarded so far. */
  readonly forwardedBytes: number;
  /** Cut everything once this many client-to-service bytes have passed. */
  breakAfter(bytes: number): void;
  /**
   * Cut everything, that request included, when the `occurrence`-th request whose bytes match
   * `pattern` (e.g. its request line) is on its way, counting from now.
   */
  breakOnRequest(pattern: RegExp, occurrence?: number): void;
  readonly broken: boolean;
  /** While on, requests still reach the service but no answer comes back. */
  swallowResponses(on: boolean): void;
  /** Swallow every answer once this many more client-to-service bytes have passed. */
  swallowAfter(bytes: number): void;
  /** When the first answer was swallowed (performance.now()), if one was. */
  readonly swallowingSince: number | undefined;
  /** The service answers again: no more cutting or swallowing; connections cut before stay cut. */
  heal(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let forwarded = 0;
  let limit = Number.POSITIVE_INFINITY;
  let broken = false;
  let swallowing = false;
  let swallowFrom = Number.POSITIVE_INFINITY;
  let swallowingSince: number | undefined;
  let breakOn: { pattern: RegExp; remaining: number } | undefined;

  const cutAll = () => {
    broken = true;
    for (const socket of sockets) socket.destroy();
  };

  const server = createServer((client) => {
    if (broken) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', forget).on('error', forget);
    // While swallowing, the service closing its side (e.g. its keep-alive timeout after the
    // answer we swallowed) must not reach the client: a stalled endpoint leaves it hanging open.
    const upstreamGone = () => {
      if (!swallowing) return forget();
      sockets.delete(upstream);
      upstream.destroy();
    };
    upstream.on('close', upstreamGone).on('error', upstreamGone);
    client.on('data', (data: Buffer) => {
      forwarded += data.length;
      if (breakOn && breakOn.pattern.test(data.toString('latin1'))) breakOn.remaining -= 1;
      if (forwarded >= limit || breakOn?.remaining === 0) {
        breakOn = undefined;
        cutAll();
        return;
      }
      if (forwarded >= swallowFrom) swallowing = true;
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (!swallowing) client.write(data);
      else swallowingSince ??= performance.now();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`Fault proxy has no TCP address: ${String(address)}`);

  return {
    origin: `http://127.0.0.1:${address.port}`,
    get forwardedBytes() {
      return forwarded;
    },
    breakAfter(bytes) {
      limit = forwarded + bytes;
    },
    breakOnRequest(pattern, occurrence = 1) {
      breakOn = { pattern: new RegExp(pattern.source, pattern.flags.replace('g', '')), remaining: occurrence };
    },
    get broken() {
      return broken;
    },
    swallowResponses(on) {
      swallowing = on;
    },
    swallowAfter(bytes) {
      swallowFrom = forwarded + bytes;
    },
    get swallowingSince() {
      return swallowingSince;
    },
    heal() {
      broken = false;
      swallowing = false;
      limit = Number.POSITIVE_INFINITY;
      swallowFrom = Number.POSITIVE_INFINITY;
      breakOn = undefined;
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Starts the EnOS identity stand-in in this process: the IAM login/session API behind an APIM
 * gateway check, plus the APIM token API, on loopback. Tests call this directly (with an
 * injected clock and fault hooks); the local stack runs it as a child through main.ts.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { Faults } from './faults.js';
import { DEFAULT_SEED_FILE, prepareSeed, readSeedFile, type SeedApp, type SeedInput } from './seed.js';
import { createStandInApp } from './server.js';

export { PATHS } from './server.js';
export type { FailOptions } from './faults.js';
export type { SeedInput } from './seed.js';

export interface EnosStandInOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default scripts/enos-stand-in/seed.json */
  seedFile?: string;
  /** An inline seed, used instead of `seedFile`. */
  seed?: SeedInput;
  /** Overrides the seed's `policy.requireAppToken`. */
  requireAppToken?: boolean;
  /** Drives session and token expiry. @default () => new Date() */
  clock?: () => Date;
}

export interface EnosStandIn {
  /** Base URL, what the connector calls `ENOS_BASE_URL`, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  readonly port: number;
  /** The registered apps (appKey/appSecret) the connector may use. */
  readonly apps: readonly SeedApp[];
  readonly faults: Faults;
  /** How many requests reached `path` (faulted ones included), e.g. PATHS.login. */
  requestCount(path: string): number;
  /** Whether an IAM session id is currently live (not expired, not logged out). */
  activeSession(id: string): boolean;
  /** Forgets every issued app token, as a gateway restart would. */
  revokeAppTokens(): void;
  /** Disables (1) or enables (0) an account, as an OU administrator would. */
  setUserState(name: string, state: 0 | 1): void;
  /** Deletes an account, as an OU administrator would. */
  deleteUser(name: string): void;
  close(): Promise<void>;
}

export async function startEnosStandIn(options: EnosStandInOptions = {}): Promise<EnosStandIn> {
  const source = options.seed === undefined ? (options.seedFile ?? DEFAULT_SEED_FILE) : 'inline seed';
  const input = options.seed ?? (await readSeedFile(options.seedFile ?? DEFAULT_SEED_FILE));
  const seed = await prepareSeed(input, source);
  if (options.requireAppToken !== undefined) seed.policy.requireAppToken = options.requireAppToken;

  const { app, hooks } = createStandInApp(seed, options.clock ?? (() => new Date()));
  const server = createServer(app);
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    apps: seed.apps,
    ...hooks,
    async close() {
      hooks.faults.reset();
      const closed = once(server, 'close');
      server.close();
      // Held (delayed) requests and keep-alive sockets would otherwise keep close() waiting.
      server.closeAllConnections();
      await closed;
    },
  };
}

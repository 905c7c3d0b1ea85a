/**
 * The connector's APIM app token: obtained with `appKey` and `sha256(appKey + timestamp +
 * appSecret)`, cached until shortly before it expires, refreshed ahead of expiry, and used to sign
 * every gateway call with `apim-signature = sha256(accessToken + paramsData + timestamp +
 * appSecret)`. Concurrent logins share one token request. See EnOS "Get Access Token", "Refresh
 * Access Token" and "Invoking API with Access Token".
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EnosTransport, WarnLogger } from './enos-http.js';

export interface AppCredentials {
  appKey: string;
  appSecret: string;
}

export const TOKEN_GET_PATH = '/apim-token-service/v2.0/token/get';
export const TOKEN_REFRESH_PATH = '/apim-token-service/v2.0/token/refresh';

/** A token this close to expiry is treated as expired: the call it signs still has to travel. */
const EXPIRY_SKEW_MS = 30_000;
const REFRESH_AHEAD_MAX_MS = 5 * 60_000;
/** APIM: "Repeated requests with duplicated encryption". */
const DUPLICATE_ENCRYPTION = 1001;

/** The token service refused the app credentials (wrong appKey/appSecret, clock far off…). */
export class AppTokenRejectedError extends Error {
  override readonly name = 'AppTokenRejectedError';
  constructor(
    message: string,
    readonly enosStatus: number | undefined,
  ) {
    super(message);
  }
}

// The docs' own sample spells the field "stauts"; accept either spelling.
const tokenReplySchema = z.object({
  status: z.number().optional(),
  stauts: z.number().optional(),
  msg: z.string().nullish(),
  data: z.object({ accessToken: z.string().min(1), expire: z.number().positive() }).nullish(),
});

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The documented paramsData: query parameters sorted by name as `name + value`, then the body. */
export function paramsData(url: URL, body: string): string {
  const names = [...new Set(url.searchParams.keys())].sort();
  return names.map((name) => `${name}${url.searchParams.get(name) ?? ''}`).join('') + body;
}

interface CachedToken {
  accessToken: string;
  expiresAtMs: number;
  refreshAtMs: number;
}

export interface AppTokenSource {
  /** The three `apim-*` headers for a call to `url` with this exact body. */
  sign(url: URL, body: string): Promise<Record<string, string>>;
  /** Drops the cached token, e.g. after the gateway answered that it expired. */
  invalidate(): void;
}

export function createAppTokenSource(credentials: AppCredentials, transport: EnosTransport, clock: () => Date, logger?: WarnLogger): AppTokenSource {
  let cached: CachedToken | undefined;
  let pending: Promise<string> | undefined;
  let lastStamp = 0;

  // The token service refuses a repeated `encryption` (code 1001), and two requests in the same
  // millisecond would sign identically: keep timestamps strictly increasing.
  const nextStamp = (): number => {
    lastStamp = Math.max(clock().getTime(), lastStamp + 1);
    return lastStamp;
  };

  async function fetchToken(path: string, extra: { accessToken?: string }, collisions = 0): Promise<CachedToken> {
    const reply = await transport.post(path, async () => {
      const timestamp = nextStamp();
      const encryption = sha256Hex(`${credentials.appKey}${timestamp}${credentials.appSecret}`);
      return { body: JSON.stringify({ appKey: credentials.appKey, encryption, timestamp, ...extra }), headers: {} };
    });
    const parsed = tokenReplySchema.safeParse(reply.body);
    const status = parsed.success ? (parsed.data.status ?? parsed.data.stauts) : undefined;
    const data = parsed.success ? parsed.data.data : undefined;
    // 1001: another client signed with the same millisecond; a fresh timestamp is all it takes.
    if (status === DUPLICATE_ENCRYPTION && collisions === 0) return fetchToken(path, extra, collisions + 1);
    if (reply.httpStatus < 200 || reply.httpStatus >= 300 || status !== 0 || !data) {
      const msg = parsed.success ? (parsed.data.msg ?? '') : 'unexpected body';
      throw new AppTokenRejectedError(`EnOS ${path} refused the app credentials (HTTP ${reply.httpStatus}, status ${status ?? 'none'}: ${msg})`, status);
    }
    const now = clock().getTime();
    const lifetimeMs = data.expire * 1000;
    return {
      accessToken: data.accessToken,
      expiresAtMs: now + lifetimeMs,
      refreshAtMs: now + lifetimeMs - Math.min(REFRESH_AHEAD_MAX_MS, lifetimeMs / 4),
    };
  }

  async function renew(): Promise<string> {
    const current = cached;
    if (current !== undefined && clock().getTime() < current.expiresAtMs - EXPIRY_SKEW_MS) {
      try {
        cached = await fetchToken(TOKEN_REFRESH_PATH, { accessToken: current.accessToken });
      } catch (error) {
        // The current token is still good: keep using it and get a new one once it expires.
        logger?.warn({ reason: (error as Error).message }, 'EnOS app token refresh failed; keeping the current token until it expires');
        current.refreshAtMs = current.expiresAtMs - EXPIRY_SKEW_MS;
      }
      return (cached ?? current).accessToken;
    }
    cached = undefined;
    cached = await fetchToken(TOKEN_GET_PATH, {});
    return cached.accessToken;
  }

  async function accessToken(): Promise<string> {
    if (cached !== undefined && clock().getTime() < cached.refreshAtMs) return cached.accessToken;
    pending ??= renew().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    async sign(url, body) {
      const token = await accessToken();
      const timestamp = String(nextStamp());
      return {
        'apim-accesstoken': token,
        'apim-signature': sha256Hex(token + paramsData(url, body) + timestamp + credentials.appSecret),
        'apim-timestamp': timestamp,
      };
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/**
 * The APIM side of the stand-in: registered apps exchange `appKey` + `sha256(appKey + timestamp +
 * appSecret)` for an access token (Get/Refresh Access Token), and every IAM call must then carry
 * that token plus `apim-signature = sha256(accessToken + paramsData + timestamp + appSecret)`
 * (Invoking API with Access Token). Both rules are implemented here independently of the
 * connector's client so a mistake on one side shows up as a failing test, not a shared blind spot.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApimStatus } from './envelopes.js';
import type { SeedApp } from './seed.js';

export type TokenAnswer = { ok: true; accessToken: string; expire: number } | { ok: false; status: number; msg: string };
export type VerifyAnswer = { ok: true; appKey: string } | { ok: false; status: number; msg: string };

/**
 * The docs do not state how far a request timestamp may drift; a window is still needed so the
 * duplicate-encryption check (code 1001) can forget old values. 15 minutes tolerates clock skew.
 */
const TIMESTAMP_WINDOW_MS = 15 * 60_000;

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase(), 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

interface IssuedToken {
  appKey: string;
  expiresAtMs: number;
}

export class AppTokens {
  private readonly apps: Map<string, SeedApp>;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly currentByApp = new Map<string, string>();
  private readonly usedEncryptions = new Map<string, number>();

  constructor(
    apps: readonly SeedApp[],
    private readonly ttlSeconds: number,
    private readonly clock: () => Date,
  ) {
    this.apps = new Map(apps.map((app) => [app.appKey, app]));
  }

  /** Get Access Token: the same token comes back while it is valid, as the docs promise. */
  issue(body: unknown): TokenAnswer {
    const checked = this.checkEncryption(body);
    if (!checked.ok) return checked;
    const now = this.clock().getTime();
    const current = this.currentByApp.get(checked.appKey);
    const existing = current === undefined ? undefined : this.tokens.get(current);
    if (current !== undefined && existing !== undefined && existing.expiresAtMs > now) {
      return { ok: true, accessToken: current, expire: Math.floor((existing.expiresAtMs - now) / 1000) };
    }
    return this.mint(checked.appKey, now);
  }

  /** Refresh Access Token: a valid token of the same app is swapped for a new one. */
  refresh(body: unknown): TokenAnswer {
    const checked = this.checkEncryption(body);
    if (!checked.ok) return checked;
    const accessToken = (body as { accessToken?: unknown }).accessToken;
    if (typeof accessToken !== 'string' || accessToken === '') {
      return { ok: false, status: ApimStatus.emptyParameter, msg: 'accessToken is required' };
    }
    const now = this.clock().getTime();
    const issued = this.tokens.get(accessToken);
    if (issued === undefined || issued.appKey !== checked.appKey) {
      return { ok: false, status: ApimStatus.refreshFailed, msg: 'Failed to refresh access token: the token is unknown for this appKey' };
    }
    if (issued.expiresAtMs <= now) {
      this.tokens.delete(accessToken);
      return { ok: false, status: ApimStatus.tokenExpired, msg: 'The access token has expired' };
    }
    this.tokens.delete(accessToken);
    return this.mint(checked.appKey, now);
  }

  /** Checks the three `apim-*` headers of an API call against the raw request. */
  verify(headers: { accessToken?: string; signature?: string; timestamp?: string }, paramsData: string): VerifyAnswer {
    const { accessToken, signature, timestamp } = headers;
    if (!accessToken || !signature || !timestamp) {
      return { ok: false, status: ApimStatus.emptyParameter, msg: 'apim-accesstoken, apim-signature and apim-timestamp headers are required' };
    }
    const now = this.clock().getTime();
    const issued = this.tokens.get(accessToken);
    if (issued === undefined || issued.expiresAtMs <= now) {
      return { ok: false, status: ApimStatus.tokenExpired, msg: 'The access token has expired' };
    }
    const app = this.apps.get(issued.appKey);
    if (app === undefined) return { ok: false, status: ApimStatus.unknownAppKey, msg: 'The appKey does not exist' };
    if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - now) > TIMESTAMP_WINDOW_MS) {
      return { ok: false, status: ApimStatus.invalidParameter, msg: `apim-timestamp must be the current time in epoch milliseconds (±${TIMESTAMP_WINDOW_MS / 60_000} min)` };
    }
    const expected = sha256Hex(accessToken + paramsData + timestamp + app.appSecret);
    if (!sameHex(signature, expected)) return { ok: false, status: ApimStatus.invalidEncryption, msg: 'The apim-signature is not valid' };
    return { ok: true, appKey: issued.appKey };
  }

  /** Test hook: forget every issued token, as a gateway restart or an early expiry would. */
  revokeAll(): void {
    this.tokens.clear();
    this.currentByApp.clear();
  }

  private mint(appKey: string, now: number): TokenAnswer {
    const accessToken = `APP_T_${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { appKey, expiresAtMs: now + this.ttlSeconds * 1000 });
    const previous = this.currentByApp.get(appKey);
    if (previous !== undefined && previous !== accessToken) this.tokens.delete(previous);
    this.currentByApp.set(appKey, accessToken);
    return { ok: true, accessToken, expire: this.ttlSeconds };
  }

  private checkEncryption(body: unknown): { ok: true; appKey: string } | { ok: false; status: number; msg: string } {
    const { appKey, encryption, timestamp } = (body ?? {}) as Record<string, unknown>;
    if (typeof appKey !== 'string' || appKey === '' || typeof encryption !== 'string' || encryption === '' || timestamp === undefined) {
      return { ok: false, status: ApimStatus.emptyParameter, msg: 'appKey, encryption and timestamp are required' };
    }
    const stamp = typeof timestamp === 'number' ? timestamp : typeof timestamp === 'string' && /^\d+$/.test(timestamp) ? Number(timestamp) : NaN;
    const now = this.clock().getTime();
    if (!Number.isInteger(stamp) || Math.abs(stamp - now) > TIMESTAMP_WINDOW_MS) {
      return { ok: false, status: ApimStatus.invalidParameter, msg: `timestamp must be the current time in epoch milliseconds (±${TIMESTAMP_WINDOW_MS / 60_000} min)` };
    }
    const app = this.apps.get(appKey);
    if (app === undefined) return { ok: false, status: ApimStatus.unknownAppKey, msg: 'The appKey does not exist' };
    if (!sameHex(encryption, sha256Hex(appKey + String(stamp) + app.appSecret))) {
      return { ok: false, status: ApimStatus.invalidEncryption, msg: 'The encryption is not valid' };
    }
    this.forgetOldEncryptions(now);
    if (this.usedEncryptions.has(encryption.toLowerCase())) {
      return { ok: false, status: ApimStatus.duplicateEncryption, msg: 'Repeated request with a duplicated encryption' };
    }
    this.usedEncryptions.set(encryption.toLowerCase(), stamp);
    return { ok: true, appKey };
  }

  private forgetOldEncryptions(now: number): void {
    for (const [encryption, stamp] of this.usedEncryptions) {
      if (Math.abs(now - stamp) > TIMESTAMP_WINDOW_MS) this.usedEncryptions.delete(encryption);
    }
  }
}

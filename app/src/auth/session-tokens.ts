/**
 * The connector's own short-lived session tokens: HS256 JWTs (jose) carrying the user id, name
 * and organization, issued after EnOS accepted the credentials. They are bearer tokens, so they
 * are short (default one hour) and revocable: logout records the token's id in a revocation list
 * that every check consults, which makes "the token stops working at once" true on every
 * instance that shares the list.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { AppError } from '../errors.js';

export interface SessionUser {
  userId: string;
  userName: string;
  organizationId: string;
}

export interface Session extends SessionUser {
  /** The session token's id, or the personal access token's id. */
  tokenId: string;
  expiresAt: Date;
  /** What authenticated the call. @default 'session' */
  via?: 'session' | 'access_token';
}

export interface RevocationList {
  revoke(tokenId: string, until: Date): Promise<void>;
  isRevoked(tokenId: string): Promise<boolean>;
}

/** What the HTTP layer knows about the call a credential comes with. */
export interface CallContext {
  clientAddress?: string;
  requestId?: string;
  /** e.g. `POST /api/v1/exports`. */
  route?: string;
}

const ISSUER = 'enos-aml-connector';
const AUDIENCE = 'enos-aml-connector/api';

export interface SessionTokens {
  issue(user: SessionUser): Promise<{ token: string; session: Session }>;
  /**
   * Throws AppError `unauthorized` (401) for a missing, forged, expired or revoked token;
   * `storage_error` (503) when the revocation list cannot be read. `context` describes the call,
   * for credentials whose use is recorded (access tokens).
   */
  verify(token: string, context?: CallContext): Promise<Session>;
  revoke(session: Session): Promise<void>;
}

export function createSessionTokens(options: {
  signingKey: Buffer;
  ttlMinutes: number;
  revocations: RevocationList;
  clock?: () => Date;
}): SessionTokens {
  const clock = options.clock ?? (() => new Date());
  // Imported once: given raw bytes, jose imports a WebCrypto key on every sign and verify, which
  // showed as ~1 ms of the API thread per request under load (npm run bench -- export --profile).
  const key = crypto.subtle.importKey('raw', new Uint8Array(options.signingKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const unauthorized = (cause?: unknown) => new AppError('unauthorized', 401, 'Sign in again: the session token is missing, invalid or expired', { cause });
  // The list lives in the job store's database or storage account; when that is down, say so.
  const listUnavailable = (cause: unknown) =>
    new AppError('storage_error', 503, 'Sessions cannot be checked right now. Please try again in a moment.', { cause, retryAfterSeconds: 5 });

  return {
    async issue(user) {
      const now = clock();
      const tokenId = randomUUID();
      const expiresAt = new Date(now.getTime() + options.ttlMinutes * 60_000);
      const token = await new SignJWT({ name: user.userName, org: user.organizationId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.userId)
        .setJti(tokenId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(await key);
      return { token, session: { ...user, tokenId, expiresAt } };
    },

    async verify(token) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, await key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: clock(),
          requiredClaims: ['sub', 'jti', 'exp', 'iat'],
        }));
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) throw unauthorized(error);
        throw error;
      }
      const { sub, jti, exp, name, org } = payload;
      if (typeof name !== 'string' || typeof org !== 'string' || !sub || !jti || !exp) throw unauthorized();
      const revoked = await options.revocations.isRevoked(jti).catch((error: unknown) => {
        throw listUnavailable(error);
      });
      if (revoked) throw unauthorized('revoked');
      return { userId: sub, userName: name, organizationId: org, tokenId: jti, expiresAt: new Date(exp * 1000) };
    },

    async revoke(session) {
      await options.revocations.revoke(session.tokenId, session.expiresAt).catch((error: unknown) => {
        throw listUnavailable(error);
      });
    },
  };
}

/** Revocations kept in this process only: right for one instance with nothing to share. */
export function createMemoryRevocationList(clock: () => Date = () => new Date()): RevocationList {
  const revoked = new Map<string, number>();
  return {
    async revoke(tokenId, until) {
      const now = clock().getTime();
      for (const [id, expiry] of revoked) if (expiry < now) revoked.delete(id);
      revoked.set(tokenId, until.getTime());
    },
    async isRevoked(tokenId) {
      const until = revoked.get(tokenId);
      return until !== undefined && until >= clock().getTime();
    },
  };
}

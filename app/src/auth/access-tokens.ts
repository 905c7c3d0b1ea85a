/**
 * Personal access tokens for automation (an Azure ML pipeline, a nightly script): made by a
 * signed-in user, shown once, stored as a hash, sent as `Authorization: Bearer` like a session
 * token, and acting as that user in the organization they were signed in with. Unlike a session
 * they outlive the EnOS password that made them, so:
 * - every use checks with EnOS (cached, see account-status.ts) that the account still exists and
 *   is enabled; a deleted or disabled account's tokens stop working at once;
 * - each token has its own rate limit (in-process, per instance);
 * - a token cannot make tokens (the route refuses principals that came with one), so a leaked
 *   token cannot outlive its own revocation.
 * Creation, revocation, refusal and use (at most once per token per quarter hour per instance)
 * are audit events.
 */
import { randomUUID } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AuditActor } from '../audit/audit-event.js';
import { actorFields, type AuditTrail } from '../audit/audit-trail.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { hashAccessToken, isWellFormedAccessToken, newAccessTokenSecret } from './access-token-secret.js';
import type { AccessTokenRecord, AccessTokenStore } from './access-token-store.js';
import type { AccountStatusChecker } from './account-status.js';
import { actorOf, ownerIdOf, type Principal } from './principal.js';
import type { CallContext, Session } from './session-tokens.js';

export const DEFAULT_TOKEN_DAYS = 90;
/** How often one token's use is written (lastUsedAt, audit event), per instance. */
const USE_RECORD_INTERVAL_MS = 15 * 60_000;

export interface AccessTokensOptions {
  store: AccessTokenStore;
  accounts: AccountStatusChecker;
  audit?: AuditTrail;
  maxDays: number;
  maxPerUser: number;
  ratePerMinute: number;
  logger: Logger;
  clock?: () => Date;
}

export class AccessTokens {
  private readonly clock: () => Date;
  private readonly limiter: RateLimiterMemory;
  private readonly lastRecorded = new Map<string, number>();

  constructor(private readonly options: AccessTokensOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.limiter = new RateLimiterMemory({ keyPrefix: 'access-token', points: options.ratePerMinute, duration: 60 });
  }

  async create(user: Principal, request: { name: string; expiresInDays?: number }): Promise<{ secret: string; record: AccessTokenRecord }> {
    if (user.via === 'access_token') {
      await this.options.audit?.note({ type: 'authz.refused', outcome: 'failure', ...actorFields(actorOf(user)), reason: 'token_creates_token', detail: 'POST /api/v1/tokens' });
      throw new AppError('forbidden', 403, 'An access token cannot create access tokens; sign in with your EnOS account to make one.');
    }
    const days = request.expiresInDays ?? Math.min(DEFAULT_TOKEN_DAYS, this.options.maxDays);
    if (days > this.options.maxDays) throw new AppError('validation_failed', 400, `expiresInDays: at most ${this.options.maxDays} (got ${days})`);
    const ownerId = ownerIdOf(user);
    const now = this.clock();
    const active = (await this.options.store.listByOwner(ownerId)).filter((token) => isActive(token, now));
    if (active.length >= this.options.maxPerUser) {
      throw new AppError('conflict', 409, `You already have ${active.length} active access tokens, the most allowed; revoke one first.`);
    }
    const secret = newAccessTokenSecret();
    const record: AccessTokenRecord = {
      id: randomUUID(),
      hash: hashAccessToken(secret),
      ownerId,
      userId: user.userId,
      userName: user.userName,
      organizationId: user.organizationId,
      name: request.name,
      createdAt: now,
      expiresAt: new Date(now.getTime() + days * 86_400_000),
    };
    // A credential that outlives the password is recorded before it exists (fail closed).
    await this.options.audit?.record({ type: 'token.created', ...actorFields(actorOf(user)), tokenId: record.id, detail: `name=${JSON.stringify(record.name)} expiresAt=${record.expiresAt.toISOString()}` });
    await this.options.store.create(record);
    return { secret, record };
  }

  list(user: Principal): Promise<AccessTokenRecord[]> {
    return this.options.store.listByOwner(ownerIdOf(user));
  }

  async revoke(user: Principal, id: string): Promise<void> {
    const revoked = await this.options.store.revoke(ownerIdOf(user), id, this.clock());
    if (!revoked) throw new AppError('not_found', 404, 'No active access token with this id');
    await this.options.audit?.note({ type: 'token.revoked', ...actorFields(actorOf(user)), tokenId: id, detail: `name=${JSON.stringify(revoked.name)}` });
  }

  /** The session an access token stands for. Throws AppError 401 for anything but a live token of an active account. */
  async verify(secret: string, context: CallContext = {}): Promise<Session> {
    const unauthorized = (why: string) => new AppError('unauthorized', 401, 'The access token is invalid, expired or revoked', { cause: why });
    if (!isWellFormedAccessToken(secret)) throw unauthorized('malformed or bad checksum');
    const record = await this.options.store.findByHash(hashAccessToken(secret));
    const now = this.clock();
    if (!record) throw unauthorized('unknown');
    if (record.revokedAt) throw unauthorized('revoked');
    if (record.expiresAt <= now) throw unauthorized('expired');

    await this.limiter.consume(record.id).catch((rejection: unknown) => {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new AppError('rate_limited', 429, `This access token made more than ${this.options.ratePerMinute} calls in a minute; slow down.`, {
        retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
      });
    });

    const status = await this.options.accounts.check(record.organizationId, record.userId);
    const actor = {
      ...actorOfRecord(record),
      ...(context.clientAddress !== undefined ? { clientAddress: context.clientAddress } : {}),
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
    };
    if (status !== 'active') {
      await this.options.audit?.note({ type: 'token.refused', outcome: 'failure', ...actorFields(actor), reason: `account_${status}` });
      throw new AppError('account_inactive', 401, `The EnOS account this token belongs to is ${status === 'gone' ? 'gone' : 'disabled'}; its tokens no longer work.`);
    }
    await this.recordUse(record, actor, context.route, now);
    return { userId: record.userId, userName: record.userName, organizationId: record.organizationId, tokenId: record.id, expiresAt: record.expiresAt, via: 'access_token' };
  }

  private async recordUse(record: AccessTokenRecord, actor: AuditActor, route: string | undefined, now: Date): Promise<void> {
    const last = this.lastRecorded.get(record.id);
    if (last !== undefined && now.getTime() - last < USE_RECORD_INTERVAL_MS) return;
    this.lastRecorded.set(record.id, now.getTime());
    await this.options.store.touch(record.hash, now).catch((error: unknown) => this.options.logger.warn({ err: error, tokenId: record.id }, 'could not record the use of an access token'));
    await this.options.audit?.note({ type: 'token.used', ...actorFields(actor), ...(route ? { detail: route } : {}) });
  }
}

function actorOfRecord(record: AccessTokenRecord): AuditActor {
  return {
    organizationId: record.organizationId,
    ownerId: record.ownerId,
    userId: record.userId,
    userName: record.userName,
    via: 'access_token',
    tokenId: record.id,
  };
}

export const isActive = (token: AccessTokenRecord, now: Date): boolean => !token.revokedAt && token.expiresAt > now;

export function tokenStatus(token: AccessTokenRecord, now: Date): 'active' | 'expired' | 'revoked' {
  if (token.revokedAt) return 'revoked';
  return token.expiresAt > now ? 'active' : 'expired';
}

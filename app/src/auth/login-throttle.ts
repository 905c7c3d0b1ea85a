/**
 * Login throttling, per client address and per account. Every attempt counts against the
 * client; failed attempts count against the account (so one noisy client cannot lock a user
 * out by succeeding, and password spraying across accounts still hits the client limit).
 * A success clears the account's count. In-process (rate-limiter-flexible's memory store):
 * with several instances each enforces its own limit, which still bounds guessing.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';

export interface LoginThrottle {
  /** Throws AppError `rate_limited` (429, with Retry-After) when either limit is spent. */
  beforeAttempt(clientKey: string, account: string): Promise<void>;
  afterFailure(account: string): Promise<void>;
  afterSuccess(account: string): Promise<void>;
}

export function createLoginThrottle(options: { perIp: number; perAccount: number; windowSeconds: number }): LoginThrottle {
  const byClient = new RateLimiterMemory({ keyPrefix: 'login-ip', points: options.perIp, duration: options.windowSeconds });
  const byAccount = new RateLimiterMemory({ keyPrefix: 'login-account', points: options.perAccount, duration: options.windowSeconds });
  const accountKey = (account: string) => account.trim().toLowerCase();
  const limited = (msBeforeNext: number) =>
    new AppError('rate_limited', 429, 'Too many sign-in attempts. Wait a few minutes and try again.', {
      retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
    });

  return {
    async beforeAttempt(clientKey, account) {
      const accountState = await byAccount.get(accountKey(account));
      if (accountState && accountState.remainingPoints <= 0) throw limited(accountState.msBeforeNext);
      try {
        await byClient.consume(clientKey);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw limited(rejection.msBeforeNext);
        throw rejection;
      }
    },
    async afterFailure(account) {
      await byAccount.consume(accountKey(account)).catch((rejection: unknown) => {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
      });
    },
    async afterSuccess(account) {
      await byAccount.delete(accountKey(account));
    },
  };
}

/**
 * Login throttling, per client address and per account. Every attempt counts against the
 * client (password spraying across accounts hits the client limit); every attempt also reserves
 * one of the account's points *before* EnOS is asked, so that attempts arriving together cannot
 * all pass a check made while none of them has failed yet. A refused credential keeps its point,
 * an attempt EnOS could not decide (it was unavailable) gives it back, and a success clears the
 * account's count (so one noisy client cannot lock a user out by failing once in a while).
 * In-process (rate-limiter-flexible's memory store): with several instances each enforces its
 * own limit, which still bounds guessing.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';

/** One sign-in attempt that passed the limits; say how it ended. */
export interface LoginAttempt {
  /** The credentials were right: the account's failures are forgotten. */
  succeeded(): Promise<void>;
  /** EnOS could not say whether they were right: the account gets its point back. */
  undecided(): Promise<void>;
}

export interface LoginThrottle {
  /**
   * Reserves the attempt against both limits. A refused credential needs no call: its point
   * stays spent. Throws AppError `rate_limited` (429, with Retry-After) when either limit is spent.
   */
  beforeAttempt(clientKey: string, account: string): Promise<LoginAttempt>;
}

export function createLoginThrottle(options: { perIp: number; perAccount: number; windowSeconds: number }): LoginThrottle {
  const byClient = new RateLimiterMemory({ keyPrefix: 'login-ip', points: options.perIp, duration: options.windowSeconds });
  const byAccount = new RateLimiterMemory({ keyPrefix: 'login-account', points: options.perAccount, duration: options.windowSeconds });
  const limited = (rejection: unknown) => {
    if (!(rejection instanceof RateLimiterRes)) return rejection;
    return new AppError('rate_limited', 429, 'Too many sign-in attempts. Wait a few minutes and try again.', {
      retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
    });
  };

  return {
    async beforeAttempt(clientKey, account) {
      const key = account.trim().toLowerCase();
      await byAccount.consume(key).catch((rejection: unknown) => {
        throw limited(rejection);
      });
      try {
        await byClient.consume(clientKey);
      } catch (rejection) {
        // The client's limit stopped it, so it was no guess at this account.
        await byAccount.reward(key, 1);
        throw limited(rejection);
      }
      return {
        succeeded: async () => {
          await byAccount.delete(key);
        },
        undecided: async () => {
          await byAccount.reward(key, 1);
        },
      };
    },
  };
}

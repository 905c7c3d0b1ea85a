/**
 * Sign-in throttling that slows guessing without letting a guesser lock anyone out.
 *
 * - Per account *and* client address: a client that keeps failing on one account waits, with a
 *   delay that doubles after each failure from the second on (1 s, 2 s, 4 s … up to the window; a
 *   first typo is retried at once) and a budget of
 *   `perAccount` failures per window. Another client — the colleague whose account is being
 *   guessed, at their own desk — is not affected: the right password from a client that has not
 *   failed always reaches EnOS.
 * - Per client address: `perIp` *failures* per window, whatever the account (password spraying).
 *   Successful sign-ins cost nothing, so a whole team behind one NAT address can sign in all day.
 *
 * Each attempt reserves its points *before* EnOS is asked, so attempts arriving together cannot
 * all pass a check made while none of them has failed yet; a success or an attempt EnOS could not
 * decide (it was unavailable, or the answer was about the account, not the password: expired,
 * disabled) gives them back. In-process (rate-limiter-flexible's memory store): with several
 * instances each enforces its own limits, which still bounds guessing.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';

/** One sign-in attempt that passed the limits; say how it ended (a wrong password needs no call). */
export interface LoginAttempt {
  /** The credentials were right: this client's failures on the account are forgotten. */
  succeeded(): Promise<void>;
  /** Not a guess (EnOS unavailable, password expired, account disabled): the points come back. */
  undecided(): Promise<void>;
  /** A wrong password: the points stay spent and this client waits before its next try. */
  failed(): Promise<void>;
}

export interface LoginThrottle {
  /** Reserves the attempt. Throws AppError `rate_limited` (429, with Retry-After) when a limit is spent. */
  beforeAttempt(clientKey: string, account: string): Promise<LoginAttempt>;
}

export interface LoginThrottleOptions {
  /** Failures per client address per window, over all accounts. */
  perIp: number;
  /** Failures per account per client address per window. */
  perAccount: number;
  windowSeconds: number;
}

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const byClient = new RateLimiterMemory({ keyPrefix: 'login-ip', points: options.perIp, duration: options.windowSeconds });
  const byPair = new RateLimiterMemory({ keyPrefix: 'login-pair', points: options.perAccount, duration: options.windowSeconds });
  // One point, blocked for the back-off after each failure; expires on its own.
  const backOff = new RateLimiterMemory({ keyPrefix: 'login-backoff', points: 1, duration: 1 });
  const limited = (rejection: unknown) => {
    if (!(rejection instanceof RateLimiterRes)) return rejection;
    return new AppError('rate_limited', 429, 'Too many failed sign-in attempts from here. Wait a little and try again.', {
      retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
    });
  };

  return {
    async beforeAttempt(clientKey, account) {
      // The NUL cannot occur in either part, so no two (client, account) pairs share a key.
      const pair = `${clientKey}\u0000${account.trim().toLowerCase()}`;
      const waiting = await backOff.get(pair);
      if (waiting !== null && waiting.consumedPoints > 1) throw limited(waiting);
      await byPair.consume(pair).catch((rejection: unknown) => {
        throw limited(rejection);
      });
      try {
        await byClient.consume(clientKey);
      } catch (rejection) {
        // The client's limit stopped it, so it was no guess at this account.
        await byPair.reward(pair, 1);
        throw limited(rejection);
      }
      const giveBack = async () => {
        await byPair.reward(pair, 1);
        await byClient.reward(clientKey, 1);
      };
      return {
        succeeded: async () => {
          await byClient.reward(clientKey, 1);
          await byPair.delete(pair);
          await backOff.delete(pair);
        },
        undecided: giveBack,
        failed: async () => {
          // A first typo costs nothing; from the second failure on, each doubles the wait.
          const failures = (await byPair.get(pair))?.consumedPoints ?? 1;
          if (failures >= 2) await backOff.block(pair, Math.min(options.windowSeconds, 2 ** (failures - 2)));
        },
      };
    },
  };
}

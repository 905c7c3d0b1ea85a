/**
 * Is this EnOS account still there and enabled? Asked for access tokens on every call and for
 * schedules before every run, answered from a per-organization cache that EnOS's List Users
 * refreshes at most every `intervalMs` (one call per organization, however many tokens).
 *
 * When EnOS cannot answer, the last answer is trusted for `graceMs` more — a short EnOS outage
 * must not stop every pipeline — and after that the check fails with 503: an account that may
 * have been disabled a day ago is not assumed to be fine. An account EnOS does not list, or lists
 * as disabled, is inactive.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AccountDirectory, AccountStates } from './enos-identity.js';

export type AccountStatus = 'active' | 'disabled' | 'gone';

export interface AccountStatusChecker {
  /** @throws AppError `identity_unavailable` (503) when EnOS has not answered for longer than the grace. */
  check(organizationId: string, userId: string): Promise<AccountStatus>;
}

interface CachedOrganization {
  states: AccountStates;
  fetchedAt: number;
}

export function createAccountStatusChecker(options: {
  directory: AccountDirectory;
  intervalMs: number;
  graceMs: number;
  clock?: () => Date;
  logger?: Logger;
}): AccountStatusChecker {
  const clock = options.clock ?? (() => new Date());
  const cache = new Map<string, CachedOrganization>();
  const pending = new Map<string, Promise<CachedOrganization>>();

  const refresh = (organizationId: string): Promise<CachedOrganization> => {
    let request = pending.get(organizationId);
    if (!request) {
      request = options.directory
        .organizationAccounts(organizationId)
        .then((states) => {
          const entry = { states, fetchedAt: clock().getTime() };
          cache.set(organizationId, entry);
          return entry;
        })
        .finally(() => pending.delete(organizationId));
      pending.set(organizationId, request);
    }
    return request;
  };

  return {
    async check(organizationId, userId) {
      const now = clock().getTime();
      let entry = cache.get(organizationId);
      if (!entry || now - entry.fetchedAt >= options.intervalMs) {
        try {
          entry = await refresh(organizationId);
        } catch (error) {
          if (!entry || now - entry.fetchedAt >= options.intervalMs + options.graceMs) {
            throw new AppError('identity_unavailable', 503, 'EnOS cannot confirm right now that the account is still active. Please try again in a moment.', {
              cause: error,
              retryAfterSeconds: 30,
            });
          }
          options.logger?.warn({ err: error, organizationId }, 'EnOS List Users failed; trusting the last answer within the grace period');
        }
      }
      const state = entry.states.get(userId);
      return state === undefined ? 'gone' : state;
    },
  };
}

/**
 * The account checker's caching rules, against a directory the test controls: one EnOS call per
 * organization per interval however many checks, concurrent checks share it, a failing EnOS is
 * waited out on the last answer for the grace period only, and absent accounts are gone.
 */
import { describe, expect, it } from 'vitest';
import { createAccountStatusChecker } from '../../../app/src/auth/account-status.js';
import type { AccountStates } from '../../../app/src/auth/enos-identity.js';
import { AppError } from '../../../app/src/errors.js';

function directory(states: Record<string, 'active' | 'disabled'>) {
  const calls: string[] = [];
  let failing = false;
  return {
    calls,
    fail: (value: boolean) => {
      failing = value;
    },
    set: (id: string, state: 'active' | 'disabled') => {
      states[id] = state;
    },
    directory: {
      async organizationAccounts(org: string): Promise<AccountStates> {
        calls.push(org);
        if (failing) throw new AppError('identity_unavailable', 503, 'EnOS is down');
        return new Map(Object.entries(states));
      },
    },
  };
}

describe('account status checks', () => {
  it('asks EnOS once per organization per interval, and shares one call between concurrent checks', async () => {
    let now = 0;
    const enos = directory({ u1: 'active', u2: 'disabled' });
    const checker = createAccountStatusChecker({ directory: enos.directory, intervalMs: 60_000, graceMs: 0, clock: () => new Date(now) });
    expect(await Promise.all([checker.check('org', 'u1'), checker.check('org', 'u2'), checker.check('org', 'u3')])).toEqual(['active', 'disabled', 'gone']);
    expect(enos.calls).toEqual(['org']);
    enos.set('u1', 'disabled');
    now = 59_999;
    expect(await checker.check('org', 'u1')).toBe('active');
    now = 60_000;
    expect(await checker.check('org', 'u1')).toBe('disabled');
    expect(enos.calls).toEqual(['org', 'org']);
  });

  it('trusts the last answer while EnOS is down, for the grace period and no longer', async () => {
    let now = 0;
    const enos = directory({ u1: 'active' });
    const checker = createAccountStatusChecker({ directory: enos.directory, intervalMs: 60_000, graceMs: 3_600_000, clock: () => new Date(now) });
    expect(await checker.check('org', 'u1')).toBe('active');
    enos.fail(true);
    now = 60_000 + 3_600_000 - 1;
    expect(await checker.check('org', 'u1')).toBe('active');
    now = 60_000 + 3_600_000;
    await expect(checker.check('org', 'u1')).rejects.toMatchObject({ code: 'identity_unavailable', status: 503 });
    await expect(checker.check('never-seen', 'u1')).rejects.toMatchObject({ code: 'identity_unavailable' });
  });
});

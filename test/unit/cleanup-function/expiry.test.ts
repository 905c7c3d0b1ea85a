import { describe, expect, it } from 'vitest';
import { expiredTagFilter, expiredTagFilterForAccount, judgeUntagged, parseExpiry } from '../../../cleanup-function/src/expiry.js';

const now = new Date('2026-11-27T12:00:00.000Z');
const HOUR = 3600 * 1000;

describe('expiry filters', () => {
  it('compares the tag with the fixed-width ISO form of now', () => {
    expect(expiredTagFilter(now)).toBe(`"expiresAt" < '2026-11-27T12:00:00.000Z'`);
  });

  it('scopes the account-wide query with @container', () => {
    expect(expiredTagFilterForAccount('exports', now)).toBe(`@container = 'exports' AND "expiresAt" < '2026-11-27T12:00:00.000Z'`);
  });

  it('relies on string order being time order for toISOString values', () => {
    const earlier = new Date('2026-11-27T11:59:59.999Z').toISOString();
    const later = new Date('2026-11-27T12:00:00.001Z').toISOString();
    expect(earlier < now.toISOString()).toBe(true);
    expect(later < now.toISOString()).toBe(false);
  });
});

describe('parseExpiry', () => {
  it.each([
    ['2026-11-27T10:00:00.000Z', '2026-11-27T10:00:00.000Z'],
    ['2026-11-27T10:00:00Z', '2026-11-27T10:00:00.000Z'],
    ['2026-11-27T10:00:00.1234567Z', '2026-11-27T10:00:00.123Z'],
  ])('accepts UTC ISO 8601 %s', (value, iso) => {
    expect(parseExpiry(value)?.toISOString()).toBe(iso);
  });

  it.each(['', 'next tuesday', '2026-11-27', '2026-11-27T10:00:00+01:00', '2026-13-45T10:00:00Z', '1732701600000'])('rejects %j', (value) => {
    expect(parseExpiry(value)).toBeUndefined();
  });
});

describe('judgeUntagged', () => {
  const maxLifetime = 24 * HOUR;
  const old = new Date(now.getTime() - 2 * maxLifetime);

  it('leaves a tagged blob to the tag query, however old it looks', () => {
    expect(judgeUntagged({ tags: { expiresAt: '2099-01-01T00:00:00.000Z' }, metadata: { expiresat: '2000-01-01T00:00:00.000Z' }, createdOn: old }, now, maxLifetime)).toEqual({ kind: 'tagged' });
  });

  it('judges by the expiresat metadata first', () => {
    expect(judgeUntagged({ metadata: { expiresat: '2026-11-27T11:00:00.000Z' }, createdOn: now }, now, maxLifetime)).toEqual({ kind: 'expired', basis: 'metadata' });
    expect(judgeUntagged({ metadata: { expiresat: '2026-11-27T13:00:00.000Z' }, createdOn: old }, now, maxLifetime)).toEqual({ kind: 'live', basis: 'metadata' });
  });

  it.each(['expiresat', 'expiresAt', 'ExpiresAt', 'EXPIRESAT'])('reads the metadata name %s, since Azure compares metadata names without case', (name) => {
    // Created just now: by age it would live for the whole maximum lifetime.
    expect(judgeUntagged({ metadata: { owner: 'x', [name]: '2026-11-27T11:00:00.000Z' }, createdOn: now }, now, maxLifetime)).toEqual({ kind: 'expired', basis: 'metadata' });
    expect(judgeUntagged({ metadata: { [name]: '2026-11-27T13:00:00.000Z' }, createdOn: old }, now, maxLifetime)).toEqual({ kind: 'live', basis: 'metadata' });
  });

  it('falls back to creation time plus the maximum lifetime without usable metadata', () => {
    expect(judgeUntagged({ createdOn: old }, now, maxLifetime)).toEqual({ kind: 'expired', basis: 'age' });
    expect(judgeUntagged({ metadata: { expiresat: 'soon' }, createdOn: new Date(now.getTime() - HOUR) }, now, maxLifetime)).toEqual({ kind: 'live', basis: 'age' });
  });

  it('does not delete what it cannot judge', () => {
    expect(judgeUntagged({}, now, maxLifetime)).toEqual({ kind: 'unknown' });
  });

  it('counts a blob expiring exactly now as still live', () => {
    expect(judgeUntagged({ metadata: { expiresat: now.toISOString() } }, now, maxLifetime)).toEqual({ kind: 'live', basis: 'metadata' });
  });
});

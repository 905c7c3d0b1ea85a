/**
 * The access token secret format: a fixed prefix secret scanners can match, 256 random bits, and
 * a CRC-32 checksum that tells a token from a look-alike before any lookup.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, hashAccessToken, isWellFormedAccessToken, looksLikeAccessToken, newAccessTokenSecret } from '../../../app/src/auth/access-token-secret.js';

describe('access token secrets', () => {
  it('match the published scanner pattern and carry a valid checksum', () => {
    const secret = newAccessTokenSecret();
    expect(secret).toMatch(/^enosaml_pat_[A-Za-z0-9_-]{43}_[0-9a-f]{8}$/);
    expect(isWellFormedAccessToken(secret)).toBe(true);
    expect(looksLikeAccessToken(secret)).toBe(true);
    expect(newAccessTokenSecret()).not.toBe(secret);
  });

  it('refuses a secret with one character changed, a wrong checksum, or another shape', () => {
    const secret = newAccessTokenSecret();
    const flipped = secret.slice(0, 20) + (secret[20] === 'A' ? 'B' : 'A') + secret.slice(21);
    expect(isWellFormedAccessToken(flipped)).toBe(false);
    expect(isWellFormedAccessToken(`${secret.slice(0, -8)}00000000`)).toBe(false);
    expect(isWellFormedAccessToken(secret.slice(1))).toBe(false);
    expect(isWellFormedAccessToken(`${secret}x`)).toBe(false);
  });

  it('computes the standard CRC-32 (the one zlib and PNG use)', () => {
    for (const text of ['', 'a', '123456789', 'enosaml_pat_xyz', 'é€😀']) expect(crc32(text)).toBe(zlibCrc32(text));
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('stores only a SHA-256, never the secret', () => {
    const secret = newAccessTokenSecret();
    expect(hashAccessToken(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAccessToken(secret)).not.toContain(secret.slice(12, 30));
  });
});

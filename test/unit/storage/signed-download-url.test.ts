import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assertSigningKey, checkGrant, signGrant } from '../../../app/src/storage/signed-download-url.js';

describe('signed download URLs', () => {
  const key = randomBytes(32);
  const id = randomUUID();
  const name = 'enos-measurement-20261127-2110.csv';
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const sig = signGrant(key, { id, name, exp });
  const now = new Date();

  it('signs HMAC-SHA256 over id, exp and name as 43 base64url characters', () => {
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signGrant(key, { id, name, exp })).toBe(sig);
  });

  it('accepts the grant it signed', () => {
    expect(checkGrant(key, { id, name, exp: String(exp), sig }, now)).toEqual({ ok: true, grant: { id, name, exp } });
  });

  it.each([
    ['another id', { id: randomUUID(), name, exp: String(exp), sig }],
    ['another name', { id, name: 'other.csv', exp: String(exp), sig }],
    ['a later exp', { id, name, exp: String(exp + 1), sig }],
    ['another key', { id, name, exp: String(exp), sig: signGrant(randomBytes(32), { id, name, exp }) }],
    ['a missing sig', { id, name, exp: String(exp), sig: undefined }],
    ['a repeated sig', { id, name, exp: String(exp), sig: [sig, sig] }],
    ['a padded sig', { id, name, exp: String(exp), sig: `${sig}=` }],
    ['a non-numeric exp', { id, name, exp: '1e12', sig }],
    ['a negative exp', { id, name, exp: '-1', sig }],
  ])('rejects %s as a bad signature', (_label, request) => {
    expect(checkGrant(key, request, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a different spelling of the same MAC bytes', () => {
    // The 43rd character carries 2 spare bits; flipping them keeps the decoded bytes but must not verify.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    const respelled = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect(checkGrant(key, { id, name, exp: String(exp), sig: respelled }, now)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('reports an authentic but expired grant as expired', () => {
    const past = Math.floor(Date.now() / 1000) - 1;
    const pastSig = signGrant(key, { id, name, exp: past });
    expect(checkGrant(key, { id, name, exp: String(past), sig: pastSig }, now)).toEqual({ ok: false, reason: 'expired' });
    expect(checkGrant(key, { id, name, exp: String(exp), sig }, new Date(exp * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a short signing key', () => {
    expect(() => assertSigningKey(randomBytes(31))).toThrow('URL signing key has 31 bytes; expected at least 32');
  });
});

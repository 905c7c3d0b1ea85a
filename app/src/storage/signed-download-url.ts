/**
 * Signed download URLs for local exports: `/d/{id}/{name}?exp={unix seconds}&sig={base64url}`,
 * where sig = HMAC-SHA256(key, id + "\n" + exp + "\n" + name). Azure ML's "import from web URL"
 * sends no credentials, so the URL itself is the grant: unguessable (random id, 256-bit MAC),
 * expiring (exp is signed) and bound to one export and one file name.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DownloadGrant {
  id: string;
  /** The last path segment, e.g. `enos-measurement-20261127-2110.csv`. */
  name: string;
  /** Unix seconds after which the URL no longer works. */
  exp: number;
}

export type GrantCheck = { ok: true; grant: DownloadGrant } | { ok: false; reason: 'bad_signature' | 'expired' };

const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const UNIX_SECONDS = /^[0-9]{1,12}$/;

export function assertSigningKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < 32) {
    throw new Error(`URL signing key has ${Buffer.isBuffer(key) ? key.length : 'no'} bytes; expected at least 32`);
  }
}

export function signGrant(key: Buffer, grant: DownloadGrant): string {
  return createHmac('sha256', key).update(`${grant.id}\n${grant.exp}\n${grant.name}`).digest('base64url');
}

/**
 * Checks the signature first, in constant time, and only then the expiry: an attacker learns
 * nothing from a forged URL but "bad signature". Query values arrive as whatever the client sent.
 */
export function checkGrant(key: Buffer, request: { id: string; name: string; exp: unknown; sig: unknown }, now: Date): GrantCheck {
  if (typeof request.exp !== 'string' || !UNIX_SECONDS.test(request.exp)) return { ok: false, reason: 'bad_signature' };
  if (typeof request.sig !== 'string' || !SIGNATURE.test(request.sig)) return { ok: false, reason: 'bad_signature' };
  const grant: DownloadGrant = { id: request.id, name: request.name, exp: Number(request.exp) };
  // Compared as text, not decoded bytes: base64url has spare bits, so only one spelling is valid.
  const expected = Buffer.from(signGrant(key, grant), 'ascii');
  const given = Buffer.from(request.sig, 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  if (now.getTime() >= grant.exp * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, grant };
}

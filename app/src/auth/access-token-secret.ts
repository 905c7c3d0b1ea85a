/**
 * The secret of a personal access token: `enosaml_pat_` + 43 base64url characters (256 random
 * bits) + `_` + 8 hex digits of CRC-32 over everything before it. The fixed prefix lets secret
 * scanners (GitHub push protection, gitleaks, trufflehog) find a leaked token with one pattern,
 *
 *     enosaml_pat_[A-Za-z0-9_-]{43}_[0-9a-f]{8}
 *
 * and the checksum lets them — and the connector — drop a look-alike without a lookup. Only
 * the SHA-256 of the secret is stored: the random part has 256 bits, so a fast hash is enough
 * (a stolen table cannot be reversed by guessing), and lookups are by that hash.
 */
import { createHash, randomBytes } from 'node:crypto';

export const ACCESS_TOKEN_PREFIX = 'enosaml_pat_';
const SECRET = /^enosaml_pat_([A-Za-z0-9_-]{43})_([0-9a-f]{8})$/;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE 802.3, the zlib/PNG one); zlib.crc32 needs Node 20.15, the project supports all of 20. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const checksum = (body: string) => crc32(body).toString(16).padStart(8, '0');

export function newAccessTokenSecret(): string {
  const body = `${ACCESS_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return `${body}_${checksum(body)}`;
}

/** Whether a credential has the shape and checksum of an access token (no lookup). */
export function isWellFormedAccessToken(secret: string): boolean {
  const match = SECRET.exec(secret);
  return match !== null && checksum(`${ACCESS_TOKEN_PREFIX}${match[1]}`) === match[2];
}

export const looksLikeAccessToken = (credential: string): boolean => credential.startsWith(ACCESS_TOKEN_PREFIX);

export const hashAccessToken = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

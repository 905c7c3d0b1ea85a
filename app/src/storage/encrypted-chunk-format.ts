/**
 * The at-rest format of local exports: AES-256-GCM over fixed-size chunks, so a download can
 * decrypt just the chunks a Range request needs and every byte it sends has been authenticated.
 *
 *   header (32 bytes): magic "EAML" | version 1 | chunk size (uint32 BE) | nonce prefix (7) | salt (16)
 *   chunks:            ciphertext of `chunkSize` plaintext bytes (the last may be shorter) | 16-byte tag
 *
 * Each file gets its own key, HKDF-SHA256(master key, salt), so nonces can never repeat across
 * files. A chunk's 12-byte IV is nonce prefix | chunk index (uint32 BE) | final flag, and the
 * header is the additional authenticated data of every chunk. That makes a wrong key, a flipped
 * bit, a swapped or reordered chunk, an edited header and a file cut at a chunk boundary (whose
 * new last chunk was not sealed as final) all fail the tag check instead of yielding bad data.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const HEADER_BYTES = 32;
export const TAG_BYTES = 16;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

const MAGIC = Buffer.from('EAML', 'ascii');
const VERSION = 1;
const NONCE_PREFIX_BYTES = 7;
const SALT_BYTES = 16;
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const KEY_INFO = Buffer.from('enos-aml-connector local export v1', 'utf8');

/** Stored data that does not decrypt and authenticate: wrong key, tampering, truncation or corruption. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

export interface ChunkCipher {
  readonly header: Buffer;
  readonly chunkSize: number;
  seal(index: number, final: boolean, plaintext: Buffer): Buffer;
  open(index: number, final: boolean, sealed: Buffer): Buffer;
}

export function assertMasterKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== 32) {
    throw new Error(`File encryption key has ${Buffer.isBuffer(key) ? key.length : 'no'} bytes; expected exactly 32 (AES-256)`);
  }
}

/** A cipher for a new file, with a fresh salt and nonce prefix. */
export function newChunkCipher(masterKey: Buffer, chunkSize = DEFAULT_CHUNK_SIZE): ChunkCipher {
  assertMasterKey(masterKey);
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new Error(`chunkSize ${chunkSize} is invalid; expected an integer from 1 to ${MAX_CHUNK_SIZE}`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(VERSION, 4);
  header.writeUInt32BE(chunkSize, 5);
  randomBytes(NONCE_PREFIX_BYTES + SALT_BYTES).copy(header, 9);
  return chunkCipher(masterKey, header);
}

/** The cipher of an existing file, from its header; a header that is not ours fails here. */
export function chunkCipherFromHeader(masterKey: Buffer, header: Buffer): ChunkCipher {
  assertMasterKey(masterKey);
  if (header.length !== HEADER_BYTES || !header.subarray(0, 4).equals(MAGIC)) {
    throw new IntegrityError('Stored export does not start with the expected header');
  }
  const version = header.readUInt8(4);
  if (version !== VERSION) throw new IntegrityError(`Stored export has format version ${version}; expected ${VERSION}`);
  const chunkSize = header.readUInt32BE(5);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new IntegrityError(`Stored export declares chunk size ${chunkSize}`);
  return chunkCipher(masterKey, Buffer.from(header));
}

function chunkCipher(masterKey: Buffer, header: Buffer): ChunkCipher {
  const chunkSize = header.readUInt32BE(5);
  const noncePrefix = header.subarray(9, 9 + NONCE_PREFIX_BYTES);
  const salt = header.subarray(9 + NONCE_PREFIX_BYTES, HEADER_BYTES);
  const key = Buffer.from(hkdfSync('sha256', masterKey, salt, KEY_INFO, 32));

  const ivFor = (index: number, final: boolean): Buffer => {
    if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new Error(`Chunk index ${index} is out of range`);
    const iv = Buffer.alloc(12);
    noncePrefix.copy(iv, 0);
    iv.writeUInt32BE(index, NONCE_PREFIX_BYTES);
    iv.writeUInt8(final ? 1 : 0, 11);
    return iv;
  };

  return {
    header,
    chunkSize,
    seal(index, final, plaintext) {
      if (plaintext.length > chunkSize) throw new Error(`Chunk of ${plaintext.length} bytes exceeds the chunk size ${chunkSize}`);
      const cipher = createCipheriv('aes-256-gcm', key, ivFor(index, final));
      cipher.setAAD(header);
      return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
    open(index, final, sealed) {
      if (sealed.length < TAG_BYTES || sealed.length > chunkSize + TAG_BYTES) {
        throw new IntegrityError(`Chunk ${index} has ${sealed.length} bytes; expected ${TAG_BYTES} to ${chunkSize + TAG_BYTES}`);
      }
      const decipher = createDecipheriv('aes-256-gcm', key, ivFor(index, final));
      decipher.setAAD(header);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
      try {
        decipher.final();
      } catch (error) {
        throw new IntegrityError(`Chunk ${index} failed authentication (wrong key, or the file was altered or cut short)`, { cause: error });
      }
      return plaintext;
    },
  };
}

/** Chunks a file of `plainBytes` has: the last one holds 1..chunkSize bytes, and an empty file still has one. */
export function chunkCount(plainBytes: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(plainBytes / chunkSize));
}

export function encryptedSize(plainBytes: number, chunkSize: number): number {
  return HEADER_BYTES + plainBytes + chunkCount(plainBytes, chunkSize) * TAG_BYTES;
}

/** Where chunk `index` starts in the file and how many sealed bytes it has. */
export function sealedChunkSpan(index: number, plainBytes: number, chunkSize: number): { offset: number; length: number } {
  const plainInChunk = Math.min(chunkSize, plainBytes - index * chunkSize);
  return { offset: HEADER_BYTES + index * (chunkSize + TAG_BYTES), length: Math.max(0, plainInChunk) + TAG_BYTES };
}

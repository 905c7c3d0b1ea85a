import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  HEADER_BYTES,
  IntegrityError,
  TAG_BYTES,
  chunkCipherFromHeader,
  chunkCount,
  encryptedSize,
  newChunkCipher,
  sealedChunkSpan,
} from '../../../app/src/storage/encrypted-chunk-format.js';

describe('encrypted chunk format', () => {
  const key = randomBytes(32);
  const plaintext = Buffer.from('asset_id,ts,value\r\nA1,2026-11-27T21:10:00Z,1.5\r\n');

  it('round-trips a chunk through a cipher rebuilt from the header', () => {
    const writer = newChunkCipher(key, 64);
    const sealed = writer.seal(0, true, plaintext.subarray(0, 64));
    expect(sealed.length).toBe(Math.min(64, plaintext.length) + TAG_BYTES);
    const reader = chunkCipherFromHeader(key, writer.header);
    expect(reader.open(0, true, sealed).equals(plaintext.subarray(0, 64))).toBe(true);
  });

  it('gives every file its own salt and nonce prefix', () => {
    const a = newChunkCipher(key);
    const b = newChunkCipher(key);
    expect(a.header.subarray(9).equals(b.header.subarray(9))).toBe(false);
    expect(a.seal(0, true, plaintext).equals(b.seal(0, true, plaintext))).toBe(false);
  });

  it.each([
    ['a wrong key', (sealed: Buffer, header: Buffer) => chunkCipherFromHeader(randomBytes(32), header).open(0, true, sealed)],
    ['another chunk index', (sealed: Buffer, header: Buffer) => chunkCipherFromHeader(key, header).open(1, true, sealed)],
    ['a missing final flag', (sealed: Buffer, header: Buffer) => chunkCipherFromHeader(key, header).open(0, false, sealed)],
    [
      'a flipped ciphertext bit',
      (sealed: Buffer, header: Buffer) => {
        const copy = Buffer.from(sealed);
        copy.writeUInt8(copy.readUInt8(3) ^ 0x04, 3);
        return chunkCipherFromHeader(key, header).open(0, true, copy);
      },
    ],
    [
      'an edited header',
      (sealed: Buffer, header: Buffer) => {
        const copy = Buffer.from(header);
        copy.writeUInt8(copy.readUInt8(12) ^ 0x01, 12);
        return chunkCipherFromHeader(key, copy).open(0, true, sealed);
      },
    ],
    ['a cut tag', (sealed: Buffer, header: Buffer) => chunkCipherFromHeader(key, header).open(0, true, sealed.subarray(0, sealed.length - 1))],
  ])('fails authentication with %s', (_label, attempt) => {
    const cipher = newChunkCipher(key, 1024);
    const sealed = cipher.seal(0, true, plaintext);
    expect(() => attempt(sealed, cipher.header)).toThrow(IntegrityError);
  });

  it('rejects a header that is not ours', () => {
    const header = Buffer.from(newChunkCipher(key).header);
    expect(() => chunkCipherFromHeader(key, Buffer.alloc(HEADER_BYTES))).toThrow('Stored export does not start with the expected header');
    header.writeUInt8(2, 4);
    expect(() => chunkCipherFromHeader(key, header)).toThrow('Stored export has format version 2; expected 1');
    expect(() => chunkCipherFromHeader(key, header.subarray(0, 10))).toThrow(IntegrityError);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => newChunkCipher(randomBytes(16))).toThrow('File encryption key has 16 bytes; expected exactly 32 (AES-256)');
  });

  it('computes sizes and chunk spans, including the one empty chunk of an empty file', () => {
    expect(chunkCount(0, 10)).toBe(1);
    expect(chunkCount(10, 10)).toBe(1);
    expect(chunkCount(11, 10)).toBe(2);
    expect(encryptedSize(0, 10)).toBe(HEADER_BYTES + TAG_BYTES);
    expect(encryptedSize(25, 10)).toBe(HEADER_BYTES + 25 + 3 * TAG_BYTES);
    expect(sealedChunkSpan(0, 25, 10)).toEqual({ offset: HEADER_BYTES, length: 10 + TAG_BYTES });
    expect(sealedChunkSpan(2, 25, 10)).toEqual({ offset: HEADER_BYTES + 2 * (10 + TAG_BYTES), length: 5 + TAG_BYTES });
    expect(sealedChunkSpan(0, 0, 10)).toEqual({ offset: HEADER_BYTES, length: TAG_BYTES });
  });
});

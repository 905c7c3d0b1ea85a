/**
 * File I/O for the encrypted chunk format: a Writable that encrypts what it receives into an
 * open file, and a reader that decrypts only the chunks covering a byte range.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { withDeadline } from '../deadline.js';
import { IntegrityError, chunkCount, sealedChunkSpan, type ChunkCipher } from './encrypted-chunk-format.js';

export interface EncryptingFileStreamOptions {
  handle: FileHandle;
  cipher: ChunkCipher;
  /** Called before each `checkEveryBytes` of plaintext goes to disk; throw to stop the export. */
  spaceCheck?: () => Promise<void>;
  checkEveryBytes?: number;
  /** Turns a failed file operation into the error the stream reports. @default the error as is */
  describeError?: (error: unknown) => Error;
  /**
   * The most one file operation (a write, the fsync) may take before the stream fails with a
   * `TimeoutError`: a disk or mount that stops answering must fail the export, not hold it. The
   * operation itself cannot be called back (it sits in libuv's thread pool) and ends whenever
   * the disk lets go. @default none
   */
  operationTimeoutMs?: number;
}

/**
 * Encrypts into `handle`, from offset 0. A full chunk is sealed only once a later byte proves it
 * is not the last; `_final` seals what remains as the final chunk, so the final flag is exact.
 */
export class EncryptingFileStream extends Writable {
  private readonly handle: FileHandle;
  private readonly cipher: ChunkCipher;
  private readonly spaceCheck: (() => Promise<void>) | undefined;
  private readonly checkEveryBytes: number;
  private readonly describeError: (error: unknown) => Error;
  private readonly operationTimeoutMs: number | undefined;
  private readonly hash = createHash('sha256');
  private readonly pending: Buffer;
  private filled = 0;
  private chunkIndex = 0;
  private position = 0;
  private accepted = 0;
  private nextCheckAt = 0;
  private digest: string | undefined;
  /** The file operation under way; `_destroy` waits for it so the owner can close the handle safely. */
  private busy: Promise<void> = Promise.resolve();

  constructor(options: EncryptingFileStreamOptions) {
    super();
    this.handle = options.handle;
    this.cipher = options.cipher;
    this.spaceCheck = options.spaceCheck;
    this.checkEveryBytes = options.checkEveryBytes ?? 64 * 1024 * 1024;
    this.describeError = options.describeError ?? ((error) => (error instanceof Error ? error : new Error(String(error))));
    this.operationTimeoutMs = options.operationTimeoutMs;
    this.pending = Buffer.allocUnsafe(options.cipher.chunkSize);
  }

  get bytesWritten(): number {
    return this.accepted;
  }

  /** Hex SHA-256 of the plaintext; known once the stream has finished. */
  get sha256(): string {
    if (this.digest === undefined) throw new Error('sha256 is known only after the stream has finished');
    return this.digest;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.track(this.writeOut(this.cipher.header), callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.track(this.consume(chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.track(this.finish(), callback);
  }

  // `busy` settles by the operation deadline at the latest, so a hung disk cannot hold a teardown.
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    void this.busy.finally(() => callback(error));
  }

  private track(operation: Promise<void>, callback: (error?: Error | null) => void): void {
    this.busy = operation.catch(() => undefined);
    operation.then(
      () => callback(),
      (error: unknown) => callback(this.describeError(error)),
    );
  }

  private async finish(): Promise<void> {
    await this.writeOut(this.cipher.seal(this.chunkIndex, true, this.pending.subarray(0, this.filled)));
    await this.io(() => this.handle.sync());
    this.digest = this.hash.digest('hex');
  }

  private async consume(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.accepted += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.filled === this.pending.length) {
        if (this.spaceCheck && this.position >= this.nextCheckAt) {
          await this.spaceCheck();
          this.nextCheckAt = this.position + this.checkEveryBytes;
        }
        await this.writeOut(this.cipher.seal(this.chunkIndex, false, this.pending));
        this.chunkIndex += 1;
        this.filled = 0;
      }
      const copied = chunk.copy(this.pending, this.filled, offset);
      this.filled += copied;
      offset += copied;
    }
  }

  private io<T>(operation: () => Promise<T>): Promise<T> {
    return this.operationTimeoutMs === undefined ? operation() : withDeadline(this.operationTimeoutMs, operation);
  }

  private async writeOut(bytes: Buffer): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.io(() => this.handle.write(bytes, done, bytes.length - done, this.position));
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
}

/**
 * Plaintext bytes `start..end` (inclusive) of a file holding `plainBytes`, decrypting only the
 * chunks that overlap the range. Each chunk is authenticated before any of it is yielded.
 */
export async function* readDecryptedRange(
  handle: FileHandle,
  cipher: ChunkCipher,
  plainBytes: number,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  const { chunkSize } = cipher;
  const lastIndex = chunkCount(plainBytes, chunkSize) - 1;
  const first = Math.floor(start / chunkSize);
  const last = Math.min(lastIndex, Math.floor(end / chunkSize));
  for (let index = first; index <= last; index += 1) {
    const span = sealedChunkSpan(index, plainBytes, chunkSize);
    const sealed = Buffer.allocUnsafe(span.length);
    let read = 0;
    while (read < span.length) {
      const { bytesRead } = await handle.read(sealed, read, span.length - read, span.offset + read);
      if (bytesRead === 0) throw new IntegrityError(`Stored export ends inside chunk ${index}`);
      read += bytesRead;
    }
    const plain = cipher.open(index, index === lastIndex, sealed);
    const chunkStart = index * chunkSize;
    yield plain.subarray(Math.max(0, start - chunkStart), Math.min(plain.length, end - chunkStart + 1));
  }
}

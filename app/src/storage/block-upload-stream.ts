/**
 * A Writable that cuts what it receives into fixed-size blocks and stages each one as an
 * uncommitted block of a block blob, a few at a time. Nothing it stages is readable until
 * someone commits the block list, so a failed or abandoned upload publishes nothing.
 *
 * Memory stays bounded by `(concurrency + 1) × blockSize`: one block filling, at most
 * `concurrency` in flight. When every slot is busy the write callback waits, which is the
 * backpressure that slows the producer (Hive → CSV) down to what storage can take.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';

/** The one call the stream needs from a BlockBlobClient. */
export type StageBlock = (blockId: string, body: Buffer, length: number, signal: AbortSignal) => Promise<unknown>;

export interface BlockUploadStreamOptions {
  stageBlock: StageBlock;
  /** Bytes per block. Azure allows up to 4000 MiB; a few MiB keeps memory small and requests quick. */
  blockSize: number;
  /** Blocks staged in parallel. */
  concurrency: number;
}

/** A block blob holds at most 50,000 committed blocks. */
const MAX_BLOCKS = 50_000;

export class BlockUploadStream extends Writable {
  private readonly stageBlockFn: StageBlock;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private readonly hash = createHash('sha256');
  /** Same length for every id (the service requires it) and unique per upload, so a retried job never mixes blocks. */
  private readonly idPrefix = randomBytes(8).toString('hex');
  private readonly ids: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly spareBlocks: Buffer[] = [];
  private readonly controller = new AbortController();
  private current: Buffer | undefined;
  private filled = 0;
  private allocatedBlocks = 0;
  private stageFailure: Error | undefined;
  private digest: string | undefined;
  private accepted = 0;

  constructor(options: BlockUploadStreamOptions) {
    super();
    if (!Number.isInteger(options.blockSize) || options.blockSize < 1) {
      throw new Error(`blockSize ${options.blockSize} is invalid; expected a positive integer of bytes`);
    }
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`concurrency ${options.concurrency} is invalid; expected a positive integer`);
    }
    this.stageBlockFn = options.stageBlock;
    this.blockSize = options.blockSize;
    this.concurrency = options.concurrency;
  }

  /** Block ids in upload order, for `commitBlockList`. Complete once the stream has finished. */
  get blockIds(): readonly string[] {
    return this.ids;
  }

  /** Bytes accepted from the producer so far. */
  get bytesWritten(): number {
    return this.accepted;
  }

  /** Hex SHA-256 of everything written; available once the stream has finished. */
  get sha256(): string {
    if (this.digest === undefined) throw new Error('sha256 is known only after the stream has finished');
    return this.digest;
  }

  /** Bytes of block buffers this stream allocated: the most it ever holds in memory at once. */
  get peakBufferedBytes(): number {
    return this.allocatedBlocks * this.blockSize;
  }

  /** Cancels blocks still in flight and waits until none is; their data is simply never committed. */
  async cancel(): Promise<void> {
    this.controller.abort();
    this.destroy();
    await Promise.allSettled([...this.inFlight]);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.consume(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.controller.abort();
    callback(error);
  }

  private async consume(chunk: Buffer): Promise<void> {
    this.throwIfFailed();
    this.hash.update(chunk);
    this.accepted += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const block = (this.current ??= this.spareBlocks.pop() ?? this.allocateBlock());
      const copied = chunk.copy(block, this.filled, offset, Math.min(chunk.length, offset + this.blockSize - this.filled));
      this.filled += copied;
      offset += copied;
      if (this.filled === this.blockSize) await this.stageCurrent();
    }
  }

  private async finish(): Promise<void> {
    this.throwIfFailed();
    if (this.filled > 0) await this.stageCurrent();
    await Promise.all([...this.inFlight]);
    this.throwIfFailed();
    this.digest = this.hash.digest('hex');
  }

  private async stageCurrent(): Promise<void> {
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    this.throwIfFailed();
    if (this.ids.length >= MAX_BLOCKS) {
      throw new Error(`Export exceeds ${MAX_BLOCKS} blocks of ${this.blockSize} bytes, the most a block blob can hold`);
    }
    const block = this.current!;
    const length = this.filled;
    this.current = undefined;
    this.filled = 0;
    const id = Buffer.from(`${this.idPrefix}-${String(this.ids.length).padStart(6, '0')}`).toString('base64');
    this.ids.push(id);
    // The SDK sends the whole Buffer it is given, so a short last block must be a view of its length.
    const staged = this.stageBlockFn(id, block.subarray(0, length), length, this.controller.signal).then(
      () => undefined,
      (error: unknown) => {
        this.stageFailure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    const tracked = staged.finally(() => {
      this.inFlight.delete(tracked);
      this.spareBlocks.push(block);
    });
    this.inFlight.add(tracked);
  }

  /** Blocks are reused once staged, so at most `concurrency + 1` are ever allocated. */
  private allocateBlock(): Buffer {
    this.allocatedBlocks += 1;
    return Buffer.allocUnsafe(this.blockSize);
  }

  private throwIfFailed(): void {
    if (this.stageFailure) throw this.stageFailure;
  }
}

/**
 * The buffers an encode worker writes its encoded chunks into (a CSV row set's text, a Parquet
 * column chunk), taken back for later chunks once the main thread has written them out
 * (encode-pool.ts `release`). A chunk moves to the main thread without a copy, and there, once
 * copied into an upload block, it used to be garbage that V8 counted only as external memory and
 * freed after some 64 MB had grown. At 10M rows that sawtooth was most of the peak above idle and
 * why it moved by 30–40 MB between identical runs. Handed back, the same few buffers carry every
 * chunk.
 *
 * Buffers that never come back (an export that failed) are only not reused: the collector frees
 * them as before.
 */
export interface ChunkBuffers {
  /** `bytes` bytes at the start of a buffer to be sent off whole, and given back once written. */
  take(bytes: number): Buffer;
  /** Whether `buffer` came from `take`. */
  isLent(buffer: ArrayBufferLike): boolean;
}

export class ChunkBufferPool implements ChunkBuffers {
  private readonly free: ArrayBuffer[] = [];
  private readonly lent = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  /** @param keepBytes bytes kept for reuse at most: about what the exports on one worker have in flight at once. */
  constructor(private readonly keepBytes: number) {}

  take(bytes: number): Buffer {
    let index = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i]!.byteLength >= bytes && (index < 0 || this.free[i]!.byteLength < this.free[index]!.byteLength)) index = i;
    }
    // A little room over the size asked, so the next chunk of a similar size fits the same buffer.
    const buffer = index >= 0 ? this.free.splice(index, 1)[0]! : Buffer.allocUnsafeSlow(Math.ceil(bytes * 1.25)).buffer;
    if (index >= 0) this.freeBytes -= buffer.byteLength;
    this.lent.add(buffer);
    return Buffer.from(buffer, 0, bytes);
  }

  isLent(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.lent.has(buffer);
  }

  /**
   * A buffer back (this thread's new object for it: a transfer makes one), kept while the pool
   * holds at most `keepBytes`; beyond that the smallest kept ones go to the collector first.
   */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength > this.keepBytes) return;
    this.free.push(buffer);
    this.freeBytes += buffer.byteLength;
    while (this.freeBytes > this.keepBytes) {
      let smallest = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i]!.byteLength < this.free[smallest]!.byteLength) smallest = i;
      this.freeBytes -= this.free.splice(smallest, 1)[0]!.byteLength;
    }
  }

  /** Buffers and bytes waiting to be reused. */
  get kept(): { buffers: number; bytes: number } {
    return { buffers: this.free.length, bytes: this.freeBytes };
  }
}

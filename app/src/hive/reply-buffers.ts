/**
 * Memory for FetchResults replies, used again instead of left to the garbage collector.
 *
 * A reply's bytes are read on the main thread and move to an encode worker (encode-pool.ts),
 * which is done with them once the row set is encoded. Left to the collector, each spent reply
 * is freed only when the worker's heap next collects, and a worker makes so little garbage of
 * its own that V8 waits until some 64 MB of such buffers have piled up: measured at 10M rows,
 * that was most of an export's memory above idle. So the worker gives each spent reply back
 * (`give`) and the next reply is read into it (`take`): an export holds a handful of replies,
 * whatever its size.
 *
 * Only buffers given back are used again, and only by `take`: a reply still being read or
 * decoded is never in the pool. Encoders copy what they keep (formats/encoder.ts).
 */

/** Replies smaller than this (status calls, the last empty fetch) are not worth pooling. */
const MIN_POOLED_BYTES = 64 * 1024;
/** New buffers are rounded up to this, so the next reply, a little larger, still fits. */
const ROUND_TO = 64 * 1024;
/** Buffers kept: enough for every export's replies in flight (two ahead, one being read). */
const MAX_KEPT = 16;
/** A kept buffer larger than twice the reply would waste more than it saves. */
const MAX_WASTE_FACTOR = 2;

const kept: ArrayBuffer[] = [];

/** A view of `size` bytes for a reply, over a buffer given back earlier when one fits. */
export function takeReplyBuffer(size: number): Buffer {
  if (size < MIN_POOLED_BYTES) return Buffer.allocUnsafeSlow(size);
  let best = -1;
  for (let i = 0; i < kept.length; i++) {
    const length = kept[i]!.byteLength;
    if (length >= size && length <= size * MAX_WASTE_FACTOR && (best < 0 || length < kept[best]!.byteLength)) best = i;
  }
  if (best >= 0) {
    const [buffer] = kept.splice(best, 1);
    return Buffer.from(buffer!, 0, size);
  }
  return Buffer.from(new ArrayBuffer(Math.ceil(size / ROUND_TO) * ROUND_TO), 0, size);
}

/** Gives back a reply's buffer once nothing reads it any more; extra buffers go to the collector. */
export function giveReplyBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength < MIN_POOLED_BYTES || buffer.byteLength === 0) return;
  if (kept.length >= MAX_KEPT) kept.shift();
  kept.push(buffer);
}

/** Buffers held for reuse (tests). */
export function keptReplyBuffers(): number {
  return kept.length;
}

/**
 * The encode worker's chunk buffers (chunk-buffer-pool.ts): what is taken is lent whole with
 * room to spare, comes back for reuse, and the pool keeps no more than its byte budget.
 */
import { describe, expect, it } from 'vitest';
import { ChunkBufferPool } from '../../../app/src/exports/chunk-buffer-pool.js';

describe('ChunkBufferPool', () => {
  it('lends the bytes asked for at the start of a buffer of its own, with a quarter more room', () => {
    const pool = new ChunkBufferPool(1024 * 1024);
    const chunk = pool.take(1000);
    expect(chunk.length).toBe(1000);
    expect(chunk.byteOffset).toBe(0);
    expect(chunk.buffer.byteLength).toBe(1250);
    expect(pool.isLent(chunk.buffer)).toBe(true);
    expect(pool.isLent(Buffer.alloc(1000).buffer)).toBe(false);
  });

  it('reuses a buffer given back, the smallest that fits, and allocates when none does', () => {
    const pool = new ChunkBufferPool(1024 * 1024);
    const small = pool.take(1000).buffer as ArrayBuffer;
    const large = pool.take(4000).buffer as ArrayBuffer;
    pool.give(large);
    pool.give(small);
    expect(pool.kept).toEqual({ buffers: 2, bytes: 1250 + 5000 });
    expect(pool.take(900).buffer).toBe(small);
    expect(pool.take(1200).buffer).toBe(large);
    const fresh = pool.take(1200);
    expect(fresh.buffer).not.toBe(small);
    expect(pool.isLent(fresh.buffer)).toBe(true);
    expect(pool.kept).toEqual({ buffers: 0, bytes: 0 });
  });

  it('keeps at most its byte budget, letting the smallest buffers go first', () => {
    const pool = new ChunkBufferPool(10_000);
    const sizes = [2000, 6000, 3000, 4000];
    const buffers = sizes.map((size) => new ArrayBuffer(size));
    for (const buffer of buffers) pool.give(buffer);
    // 15,000 given: 2000 then 3000 go, 6000 + 4000 stay.
    expect(pool.kept).toEqual({ buffers: 2, bytes: 10_000 });
    expect(pool.take(5000).buffer).toBe(buffers[1]);
    expect(pool.take(3500).buffer).toBe(buffers[3]);
  });

  it('ignores a detached or empty buffer and one larger than its whole budget', () => {
    const pool = new ChunkBufferPool(10_000);
    pool.give(new ArrayBuffer(0));
    pool.give(new ArrayBuffer(20_000));
    expect(pool.kept).toEqual({ buffers: 0, bytes: 0 });
  });
});

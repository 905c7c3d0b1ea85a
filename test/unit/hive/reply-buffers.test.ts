/**
 * Reply memory used again (hive/reply-buffers.ts): a buffer given back is the next reply's when it
 * fits without waste, small replies are left alone, and the framed receiver reads into it. The
 * other half of the contract — encoders copy what they keep of a row set, so its memory may be
 * overwritten once `encode` returns — is checked for CSV and Parquet, in this thread and in a worker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEncodePool } from '../../../app/src/exports/encode-pool.js';
import { RowSetEncoding } from '../../../app/src/exports/row-set-encoding.js';
import type { WireRowSet } from '../../../app/src/hive/column-batch.js';
import { FastFramedTransport } from '../../../app/src/hive/fast-fetch.js';
import { giveReplyBuffer, keptReplyBuffers, takeReplyBuffer } from '../../../app/src/hive/reply-buffers.js';
import type { ResultColumn } from '../../../app/src/hive/result-schema.js';
import { createLogger } from '../../../app/src/logger.js';
import { wireRowSet } from '../../support/thrift-rowsets.js';

describe('reply buffers', () => {
  it('gives a returned buffer to the next reply that fits it without wasting half of it', () => {
    const first = takeReplyBuffer(300_000);
    expect(first.length).toBe(300_000);
    giveReplyBuffer(first.buffer as ArrayBuffer);
    const again = takeReplyBuffer(290_000);
    expect(again.buffer).toBe(first.buffer);
    expect(again.length).toBe(290_000);
    giveReplyBuffer(again.buffer as ArrayBuffer);
    // Far smaller: a new buffer, the big one stays for a big reply.
    const small = takeReplyBuffer(100_000);
    expect(small.buffer).not.toBe(first.buffer);
    expect(takeReplyBuffer(300_000).buffer).toBe(first.buffer);
  });

  it('leaves small replies and detached buffers alone', () => {
    const before = keptReplyBuffers();
    giveReplyBuffer(new ArrayBuffer(1024));
    const moved = new ArrayBuffer(200_000);
    structuredClone(moved, { transfer: [moved] });
    giveReplyBuffer(moved);
    expect(keptReplyBuffers()).toBe(before);
  });

  it('reads a frame into a buffer given back', () => {
    const spare = takeReplyBuffer(150_000);
    giveReplyBuffer(spare.buffer as ArrayBuffer);
    const payload = Buffer.alloc(140_000, 7);
    const header = Buffer.alloc(4);
    header.writeInt32BE(payload.length);
    const frames: Buffer[] = [];
    const receive = FastFramedTransport.receiver((transport) => frames.push((transport as unknown as { inBuf: Buffer }).inBuf), 0);
    receive(Buffer.concat([header, payload.subarray(0, 50_000)]));
    receive(payload.subarray(50_000));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.buffer).toBe(spare.buffer);
    expect(frames[0]!.equals(payload)).toBe(true);
  });
});

const COLUMNS: ResultColumn[] = [
  { name: 'n', type: 'bigint', typeId: 4, nullable: true },
  { name: 's', type: 'string', typeId: 7, nullable: true },
];
/** 5,000 rows from `from`, strings repeating (a Parquet dictionary) and long enough to pool. */
const rowSet = (from: number): WireRowSet => {
  const numbers = Array.from({ length: 5000 }, (_, i) => from + i);
  return wireRowSet([
    { i64Val: { values: numbers.map(BigInt), nulls: Buffer.alloc(0) } },
    { stringVal: { values: numbers.map((n) => `asset-${n % 50}-${'x'.repeat(n % 7)}`), nulls: Buffer.alloc(0) } },
  ]);
};
/** What a reused buffer holds once the next reply is read into it. */
const scribble = (set: WireRowSet) => set.reply.fill(0xa5);

describe('encoders keep nothing of a row set after encode', () => {
  const pool = createEncodePool({ workers: 1, idleMs: 1_000, logger: createLogger('silent') });
  afterAll(() => pool.close());

  for (const format of ['csv', 'parquet'] as const) {
    it(`${format}: the same bytes when each row set's memory is overwritten right after encode`, async () => {
      const encode = async (overwrite: boolean) => {
        const encoding = await RowSetEncoding.open({ format, columns: COLUMNS });
        const out = [...encoding.start()];
        for (const from of [0, 5000, 10000]) {
          const set = rowSet(from);
          out.push(...encoding.encode(set, 1e9, 1e12).chunks);
          if (overwrite) scribble(set);
        }
        out.push(...encoding.finish());
        return Buffer.concat(out);
      };
      expect((await encode(true)).equals(await encode(false))).toBe(true);
    });

    it(`${format}: a worker gives each row set's memory back, and the file is the same as encoded in this thread`, async () => {
      const inline = await RowSetEncoding.open({ format, columns: COLUMNS });
      const expected = Buffer.concat([...inline.start(), ...[0, 5000, 10000].flatMap((from) => inline.encode(rowSet(from), 1e9, 1e12).chunks), ...inline.finish()]);
      const encoder = pool.open({ format, columns: COLUMNS });
      try {
        const out = [...(await encoder.start())];
        for (const from of [0, 5000, 10000]) {
          const set = rowSet(from);
          const size = set.reply.buffer.byteLength;
          const kept = keptReplyBuffers();
          out.push(...(await encoder.encode(set, 1e9, 1e12)).chunks);
          // Moved to the worker and back, ready for the next reply, which is read into it.
          expect(set.reply.byteLength).toBe(0);
          expect(keptReplyBuffers()).toBe(kept + 1);
          const next = takeReplyBuffer(size);
          expect(next.buffer.byteLength).toBe(size);
          next.fill(0xa5);
          giveReplyBuffer(next.buffer as ArrayBuffer);
        }
        out.push(...(await encoder.finish()));
        expect(Buffer.concat(out).equals(expected)).toBe(true);
      } finally {
        encoder.close();
      }
    });
  }
});

/**
 * FastFramedTransport's receiver: whatever way the socket cuts the bytes, each frame comes out
 * whole, in order, in a buffer of its own (so a reply in it can move to a worker thread).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FastFramedTransport } from '../../../app/src/hive/fast-fetch.js';

function framed(payloads: Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((payload) => {
    const header = Buffer.alloc(4);
    header.writeInt32BE(payload.length);
    return [header, payload];
  }));
}

function receive(stream: Buffer, cuts: number[]): Buffer[] {
  const frames: Buffer[] = [];
  const receiver = FastFramedTransport.receiver((transport) => frames.push((transport as unknown as { inBuf: Buffer }).inBuf), 0);
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    receiver(stream.subarray(from, cut));
    from = cut;
  }
  return frames;
}

/** Frames by their digests (comparing 70 KB buffers value by value is slow). */
const digests = (frames: Buffer[]) => frames.map((frame) => `${frame.length}:${createHash('sha256').update(frame).digest('hex')}`);

describe('FastFramedTransport.receiver', () => {
  const payloads = [randomBytes(10), Buffer.alloc(0), randomBytes(70_000), randomBytes(1), randomBytes(3)];
  const stream = framed(payloads);
  const expected = digests(payloads);

  it('gives back every frame, in order, however the bytes arrive', () => {
    for (let trial = 0; trial < 200; trial++) {
      const cuts = Array.from({ length: trial % 12 }, () => Math.floor(Math.random() * stream.length)).sort((a, b) => a - b);
      expect(digests(receive(stream, cuts)), `cuts ${cuts.join(',')}`).toEqual(expected);
    }
    // One byte at a time, and all at once.
    expect(digests(receive(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1)))).toEqual(expected);
    expect(digests(receive(stream, []))).toEqual(expected);
  });

  it('puts each frame in a buffer that is all its own', () => {
    for (const frame of receive(stream, [7, 20, 30_000])) {
      expect(frame.byteOffset).toBe(0);
      expect(frame.buffer.byteLength).toBe(frame.length);
    }
  });

  it('reads nothing more after a frame size no server sends, instead of allocating it', () => {
    const bad = Buffer.alloc(4);
    bad.writeInt32BE(-5);
    expect(receive(Buffer.concat([bad, framed([randomBytes(5)])]), [])).toEqual([]);
  });
});

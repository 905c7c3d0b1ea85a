import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { BlockUploadStream, type StageBlock } from '../../../app/src/storage/block-upload-stream.js';

/** A stand-in for `stageBlock` that the test releases by hand, recording what it received. */
function heldStager() {
  const staged = new Map<string, Buffer>();
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const stageBlock: StageBlock = (id, body, length) => {
    expect(body.length).toBe(length);
    staged.set(id, Buffer.from(body));
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise<void>((resolve) =>
      waiting.push(() => {
        inFlight -= 1;
        resolve();
      }),
    );
  };
  return {
    stageBlock,
    staged,
    get waiting() {
      return waiting.length;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    releaseOne: () => waiting.shift()?.(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('BlockUploadStream', () => {
  it('cuts the input into blocks in order, with equal-length ids, and hashes all of it', async () => {
    const stager = heldStager();
    const stream = new BlockUploadStream({ stageBlock: stager.stageBlock, blockSize: 1_000, concurrency: 3 });
    const content = randomBytes(10_500);
    const releasing = setInterval(() => stager.releaseOne(), 1);
    try {
      await pipeline(Readable.from([content.subarray(0, 333), content.subarray(333, 7_000), content.subarray(7_000)]), stream);
    } finally {
      clearInterval(releasing);
    }
    expect(stream.blockIds).toHaveLength(11);
    expect(new Set(stream.blockIds.map((id) => Buffer.from(id, 'base64').length)).size).toBe(1);
    expect(Buffer.concat(stream.blockIds.map((id) => stager.staged.get(id)!)).equals(content)).toBe(true);
    expect(stream.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(stream.bytesWritten).toBe(content.length);
    expect(stager.maxInFlight).toBeLessThanOrEqual(3);
  });

  it('holds the producer back while every slot is busy, and never buffers more than (concurrency + 1) blocks', async () => {
    const stager = heldStager();
    const stream = new BlockUploadStream({ stageBlock: stager.stageBlock, blockSize: 100, concurrency: 2 });
    let acknowledged = 0;
    const writeBlock = () => stream.write(Buffer.alloc(100, 1), () => (acknowledged += 1));
    for (let i = 0; i < 5; i += 1) writeBlock();
    await tick();
    // Two blocks in flight, the third filled and waiting for a slot: its write is not acknowledged.
    expect(stager.waiting).toBe(2);
    expect(acknowledged).toBe(2);

    stager.releaseOne();
    await tick();
    await tick();
    expect(stager.waiting).toBe(2);
    expect(acknowledged).toBe(3);

    while (stager.waiting > 0 || acknowledged < 5) {
      stager.releaseOne();
      await tick();
    }
    stream.end();
    while (!stream.writableFinished) {
      stager.releaseOne();
      await tick();
    }
    expect(stager.maxInFlight).toBe(2);
    expect(stream.peakBufferedBytes).toBeLessThanOrEqual(300);
  });

  it('fails the stream with the storage error when a block cannot be staged', async () => {
    const failure = new Error('503 Server Busy');
    let calls = 0;
    const stream = new BlockUploadStream({
      stageBlock: async () => {
        calls += 1;
        if (calls === 2) throw failure;
      },
      blockSize: 10,
      concurrency: 2,
    });
    const source = Readable.from((function* () {
      for (let i = 0; i < 20; i += 1) yield Buffer.alloc(10, i);
    })());
    await expect(pipeline(source, stream)).rejects.toBe(failure);
  });

  it('cancel aborts the blocks in flight and waits for them to settle', async () => {
    const signals: AbortSignal[] = [];
    const stream = new BlockUploadStream({
      stageBlock: (_id, _body, _length, signal) => {
        signals.push(signal);
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      },
      blockSize: 10,
      concurrency: 4,
    });
    stream.write(Buffer.alloc(35));
    await tick();
    expect(signals).toHaveLength(3);
    await stream.cancel();
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(stream.destroyed).toBe(true);
  });

  it('refuses nonsensical sizes', () => {
    const stageBlock: StageBlock = async () => undefined;
    expect(() => new BlockUploadStream({ stageBlock, blockSize: 0, concurrency: 1 })).toThrow('blockSize 0 is invalid; expected a positive integer of bytes');
    expect(() => new BlockUploadStream({ stageBlock, blockSize: 10, concurrency: 0.5 })).toThrow('concurrency 0.5 is invalid; expected a positive integer');
  });
});

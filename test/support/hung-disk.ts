/**
 * A disk that stops answering, as this process sees it: every file operation waits. A hung
 * network mount or a dying disk holds each operation inside the kernel, in one of libuv's pool
 * threads, until the pool is full and every later file operation queues behind them. Here every
 * pool thread is held in an open() of a FIFO that no writer opens — the same state, without
 * root, FUSE or a real mount. `release()` opens the FIFOs' other ends: the held opens return and
 * everything queued behind them runs, as when the disk comes back.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** More than libuv's pool holds unless UV_THREADPOOL_SIZE raises it; the probe below checks. */
const HELD_OPENS = 128;

export interface HungDisk {
  /** Lets every held and queued file operation of the process go on. */
  release(): Promise<void>;
}

export async function hangDisk(): Promise<HungDisk> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hung-disk-'));
  const fifos = Array.from({ length: HELD_OPENS }, (_, i) => path.join(dir, `held-${i}`));
  await promisify(execFile)('mkfifo', fifos);
  const held: Promise<FileHandle>[] = fifos.map((fifo) => open(fifo, 'r'));
  // A file operation that cannot finish while the pool is held; if it does, the pool is larger.
  let probed = false;
  const probe = stat(dir).then(() => (probed = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const release = async () => {
    // Opening read-write never blocks on Linux and counts as a writer: each held open returns.
    const ends = fifos.map((fifo) => openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
    try {
      const handles = await Promise.all(held);
      await Promise.all(handles.map((handle) => handle.close()));
      await probe;
    } finally {
      for (const end of ends) closeSync(end);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  if (probed) {
    await release();
    throw new Error(`file operations still ran with ${HELD_OPENS} opens held: libuv's pool is larger (UV_THREADPOOL_SIZE); raise HELD_OPENS`);
  }
  return { release };
}

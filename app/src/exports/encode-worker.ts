/**
 * An encode worker's entry (see encode-pool.ts): keeps the encoders of the exports pinned to it
 * and answers each request in order. Failures are answered, not thrown: the export fails, the
 * worker and the other exports on it go on.
 */
import { parentPort } from 'node:worker_threads';
import { spansWholeBuffer } from '../formats/encoder.js';
import type { EncodeCall, EncodeReply, EncodeRequest } from './encode-pool.js';
import { promptCollector } from '../garbage-collection.js';
import { ChunkBufferPool } from './chunk-buffer-pool.js';
import { RowSetEncoding } from './row-set-encoding.js';
import { deprioritizeCurrentThread } from './thread-priority.js';

const port = parentPort;
if (!port) throw new Error('encode-worker.ts runs as a worker thread of the connector');

/**
 * Bytes of chunk buffers kept for reuse. An export has a few chunks out at once (ENCODE_AHEAD in
 * export-pipeline.ts): CSV, a row set's text each (~0.5–2 MB); Parquet, a row group's column
 * chunks (6 MB a million rows of enos.measurement, at most ~64 MiB), and up to 4 exports share the
 * default 2–4 workers. What is kept waits idle at most until the worker stops, a minute after its
 * last export.
 */
const CHUNK_BUFFER_BYTES_KEPT = 32 * 1024 * 1024;

/** Spent replies are freed every few MiB instead of after ~64 MB (garbage-collection.ts). */
const repliesReceived = promptCollector();

/** The buffers chunks (CSV text, Parquet column chunks) are written into, given back by the main thread once written out. */
const chunkBuffers = new ChunkBufferPool(CHUNK_BUFFER_BYTES_KEPT);

/** Open encoders by id; `open` may still be loading a format's module, so each is awaited. */
const encodings = new Map<number, Promise<RowSetEncoding>>();

/**
 * The memory of chunks that are all of it, or that `chunkBuffers` lent, moves to the main thread
 * without a copy (the encoders' chunks are the caller's, see formats/encoder.ts); a view into a
 * shared buffer is copied by the structured clone instead.
 */
function movable(chunks: Uint8Array[]): ArrayBuffer[] {
  const moved = new Set<ArrayBuffer>();
  for (const chunk of chunks) {
    if (spansWholeBuffer(chunk) || chunkBuffers.isLent(chunk.buffer)) moved.add(chunk.buffer as ArrayBuffer);
  }
  return [...moved];
}

/** Which chunks' buffers the main thread is to give back once written (`reuse`). */
function reusable(chunks: Uint8Array[]): boolean[] | undefined {
  const wanted = chunks.map((chunk) => chunkBuffers.isLent(chunk.buffer));
  return wanted.includes(true) ? wanted : undefined;
}

async function handle(request: EncodeCall & { rid: number }): Promise<EncodeReply> {
  if (request.op === 'open') {
    const opening = RowSetEncoding.open(request.spec, chunkBuffers);
    opening.catch(() => undefined);
    encodings.set(request.id, opening);
    await opening;
    return { rid: request.rid, chunks: [] };
  }
  const pending = encodings.get(request.id);
  if (!pending) throw new Error('the export\'s encoder is gone');
  const encoding = await pending;
  switch (request.op) {
    case 'start':
      return { rid: request.rid, chunks: encoding.start() };
    case 'encode': {
      const { chunks, rows } = encoding.encode(request.rowSet, request.maxRows, request.maxBytes);
      repliesReceived(request.rowSet.reply.byteLength);
      return { rid: request.rid, chunks, rows };
    }
    case 'finish':
      return { rid: request.rid, chunks: encoding.finish() };
  }
}

port.on('message', async (request: EncodeRequest) => {
  if (request.op === 'close') {
    encodings.delete(request.id);
    return;
  }
  if (request.op === 'reuse') {
    chunkBuffers.give(request.buffer);
    return;
  }
  if (request.op === 'nice') {
    deprioritizeCurrentThread(request.nice);
    return;
  }
  let reply: EncodeReply;
  try {
    reply = await handle(request);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    reply = { rid: request.rid, error: { name, message } };
  }
  if ('chunks' in reply) {
    const wanted = reusable(reply.chunks);
    if (wanted) reply.reusable = wanted;
  }
  port.postMessage(reply, 'chunks' in reply ? movable(reply.chunks) : []);
});

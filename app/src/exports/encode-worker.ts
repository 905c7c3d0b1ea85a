/**
 * An encode worker's entry (see encode-pool.ts): keeps the encoders of the exports pinned to it
 * and answers each request in order. Failures are answered, not thrown: the export fails, the
 * worker and the other exports on it go on.
 */
import { parentPort } from 'node:worker_threads';
import type { EncodeCall, EncodeReply, EncodeRequest } from './encode-pool.js';
import { RowSetEncoding } from './row-set-encoding.js';

const port = parentPort;
if (!port) throw new Error('encode-worker.ts runs as a worker thread of the connector');

const encodings = new Map<number, RowSetEncoding>();

function handle(request: EncodeCall & { rid: number }): EncodeReply {
  if (request.op === 'open') {
    encodings.set(request.id, new RowSetEncoding(request.spec));
    return { rid: request.rid, chunks: [] };
  }
  const encoding = encodings.get(request.id);
  if (!encoding) throw new Error('the export\'s encoder is gone');
  switch (request.op) {
    case 'start':
      return { rid: request.rid, chunks: encoding.start() };
    case 'encode': {
      const { chunks, rows } = encoding.encode(request.rowSet, request.maxRows, request.maxBytes);
      return { rid: request.rid, chunks, rows };
    }
    case 'finish':
      return { rid: request.rid, chunks: encoding.finish() };
  }
}

port.on('message', (request: EncodeRequest) => {
  if (request.op === 'close') {
    encodings.delete(request.id);
    return;
  }
  let reply: EncodeReply;
  try {
    reply = handle(request);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    reply = { rid: request.rid, error: { name, message } };
  }
  // Structured clone copies the encoded bytes (a memcpy): the encoders may reuse their buffers.
  port.postMessage(reply);
});

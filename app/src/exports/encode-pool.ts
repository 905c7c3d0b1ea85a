/**
 * Where exports turn Hive's row sets into file bytes: a small pool of worker threads, so that
 * decoding and encoding — nearly all of an export's CPU — never hold up the API's event loop,
 * and several exports use several cores. The main thread keeps the I/O: it reads Hive's replies
 * (only their headers, see fast-fetch.ts), moves each reply's bytes to the export's worker
 * without a copy, and streams the encoded bytes back out to storage.
 *
 * Each export is pinned to one worker for its life (its encoder's state — a Parquet row group,
 * the byte count — lives there), the one with the fewest exports open. Workers start on first
 * use and stop after `idleMs` without an export, so an idle connector holds no extra heaps. With
 * `workers: 0` everything runs on the main thread (tests of the domain, tiny deployments).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WireRowSet } from '../hive/column-batch.js';
import { RowSetDecodeError } from '../hive/rowset-decoder.js';
import type { EncodedChunk } from '../formats/encoder.js';
import type { Logger } from '../logger.js';
import { RowSetEncoding, type EncodingSpec } from './row-set-encoding.js';

/** An export's encoder, wherever it runs. Calls are made one at a time, in order. */
export interface RowSetEncoder {
  start(): Promise<Buffer[]>;
  /** Whole rows of `rowSet`: at most `maxRows`, none past `maxBytes` of output. The row set is consumed. */
  encode(rowSet: WireRowSet, maxRows: number, maxBytes: number): Promise<EncodedChunk>;
  finish(): Promise<Buffer[]>;
  /**
   * The caller is done with `chunk`, one this encoder returned: its bytes are written out (the
   * sink called back for it), so its memory may carry a later chunk. Chunks not meant for reuse
   * are ignored. Valid after `close` too.
   */
  release(chunk: Buffer): void;
  /** Drops the encoder's state; safe to call at any point and more than once. */
  close(): void;
}

export interface EncodePool {
  open(spec: EncodingSpec): RowSetEncoder;
  /** Stops every worker (shutdown). */
  close(): Promise<void>;
}

/** What a worker (encode-worker.ts) is asked for the encoder `id`; each call gets one reply. */
export type EncodeCall =
  | { op: 'open'; id: number; spec: EncodingSpec }
  | { op: 'start' | 'finish'; id: number }
  | { op: 'encode'; id: number; rowSet: WireRowSet; maxRows: number; maxBytes: number };

/**
 * Messages to a worker: calls numbered by `rid`; and, not answered, `close`, `reuse` (a chunk's
 * buffer given back) and `nice` (lower the thread's priority to that nice value).
 */
export type EncodeRequest =
  | (EncodeCall & { rid: number })
  | { op: 'close'; id: number }
  | { op: 'reuse'; buffer: ArrayBuffer }
  | { op: 'nice'; nice: number };

/** A worker's answer to the request `rid`; `reusable[i]`: chunk i's buffer is to be given back once written. */
export type EncodeReply =
  | { rid: number; chunks: Uint8Array[]; rows?: number; reusable?: boolean[] }
  | { rid: number; error: { name: string; message: string } };

/** Uint8Arrays from a worker as Buffers, without copying. */
const asBuffers = (chunks: Uint8Array[]): Buffer[] => chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));

function revive(error: { name: string; message: string }): Error {
  if (error.name === 'RowSetDecodeError') return new RowSetDecodeError(error.message);
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}

/**
 * A worker running encode-worker: the bundle's encode-worker.js beside server.js or, run from
 * the TypeScript sources (tsx, vitest), the source through tsx's loader registered in the worker
 * (loader hooks given by --import do not reach worker threads).
 */
function startWorker(): Worker {
  const options = { name: 'export-encoder' };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./encode-worker.js', import.meta.url), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./encode-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

class WorkerSlot {
  private worker: Worker | undefined;
  private nextRid = 0;
  private readonly pending = new Map<number, { resolve: (reply: EncodeReply) => void; reject: (error: Error) => void }>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Encoders open on this worker. */
  open = 0;

  /** The nice value this slot's worker runs at, or starts at (0: as the process). */
  private nice = 0;

  constructor(
    private readonly idleMs: number,
    private readonly logger: Logger,
  ) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    worker.unref();
    // Before any call: messages are handled in order.
    if (this.nice > 0) worker.postMessage({ op: 'nice', nice: this.nice } satisfies EncodeRequest);
    worker.on('message', (reply: EncodeReply) => {
      const waiting = this.pending.get(reply.rid);
      this.pending.delete(reply.rid);
      waiting?.resolve(reply);
    });
    const lost = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.nice = 0;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => {
      this.logger.error({ err: error }, 'an export encode worker failed');
      lost(new Error(`The export's encode worker failed: ${error.message}`));
    });
    worker.on('exit', (code) => lost(new Error(`The export's encode worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** The worker this encoder's state lives in; a new worker would not have it. */
  attach(): Worker {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.open++;
    return this.ensureWorker();
  }

  detach(): void {
    this.open--;
    if (this.open > 0 || !this.worker) return;
    this.idleTimer = setTimeout(() => void this.stop(), this.idleMs);
    this.idleTimer.unref();
  }

  request(worker: Worker, message: EncodeCall, transfer: ArrayBuffer[] = []): Promise<EncodeReply> {
    if (this.worker !== worker) return Promise.reject(new Error('The export\'s encode worker stopped'));
    const rid = ++this.nextRid;
    return new Promise<EncodeReply>((resolve, reject) => {
      this.pending.set(rid, { resolve, reject });
      worker.postMessage({ ...message, rid }, transfer);
    });
  }

  /** Lowers the worker's priority for the rest of its life (a thread cannot raise it again unprivileged). */
  deprioritize(nice: number): void {
    if (this.nice >= nice) return;
    this.nice = nice;
    this.worker?.postMessage({ op: 'nice', nice } satisfies EncodeRequest);
  }

  post(worker: Worker, message: EncodeRequest, transfer: ArrayBuffer[] = []): void {
    if (this.worker === worker) worker.postMessage(message, transfer);
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.nice = 0;
    for (const waiting of this.pending.values()) waiting.reject(new Error('The export\'s encode worker was stopped'));
    this.pending.clear();
    await worker.terminate();
  }
}

function workerEncoder(slot: WorkerSlot, id: number, spec: EncodingSpec): RowSetEncoder {
  const worker = slot.attach();
  let closed = false;
  /** Buffers of chunks the worker wants back once written (its ChunkBufferPool). */
  const reusable = new WeakSet<ArrayBufferLike>();
  const call = async (message: EncodeCall, transfer?: ArrayBuffer[]) => {
    if (closed) throw new Error('The export\'s encoder is closed');
    const reply = await slot.request(worker, message, transfer);
    if ('error' in reply) throw revive(reply.error);
    reply.reusable?.forEach((wanted, i) => wanted && reusable.add(reply.chunks[i]!.buffer));
    return reply;
  };
  const opened = call({ op: 'open', id, spec });
  opened.catch(() => undefined);
  return {
    async start() {
      await opened;
      return asBuffers((await call({ op: 'start', id })).chunks);
    },
    async encode(rowSet, maxRows, maxBytes) {
      // The reply's bytes move to the worker: the row set is not used again here.
      const reply = await call({ op: 'encode', id, rowSet, maxRows, maxBytes }, [rowSet.reply.buffer as ArrayBuffer]);
      return { chunks: asBuffers(reply.chunks), rows: reply.rows ?? 0 };
    },
    async finish() {
      return asBuffers((await call({ op: 'finish', id })).chunks);
    },
    release(chunk) {
      const buffer = chunk.buffer;
      if (!reusable.has(buffer)) return;
      reusable.delete(buffer);
      slot.post(worker, { op: 'reuse', buffer: buffer as ArrayBuffer }, [buffer as ArrayBuffer]);
    },
    close() {
      if (closed) return;
      closed = true;
      slot.post(worker, { op: 'close', id });
      slot.detach();
    },
  };
}

function inlineEncoder(spec: EncodingSpec): RowSetEncoder {
  const encoding = RowSetEncoding.open(spec);
  encoding.catch(() => undefined);
  return {
    start: async () => (await encoding).start(),
    encode: async (rowSet, maxRows, maxBytes) => (await encoding).encode(rowSet, maxRows, maxBytes),
    finish: async () => (await encoding).finish(),
    release: () => undefined,
    close: () => undefined,
  };
}

export function createEncodePool(options: {
  workers: number;
  /**
   * The workers' nice value once exports contend for the cores (`contendedAt`): higher, and
   * exports yield to the API's thread. A lone export on a machine with a core to spare runs at
   * full priority: it competes with nothing, and a lowered priority costs it time slices (a
   * fifth of its rate, measured with the stand-in and Azurite on the same two cores).
   */
  nice?: number;
  /** Exports open at once from which the workers are deprioritized. @default the cores */
  contendedAt?: number;
  idleMs: number;
  logger: Logger;
}): EncodePool {
  if (options.workers === 0) return { open: inlineEncoder, close: async () => undefined };
  const nice = options.nice ?? 0;
  const contendedAt = options.contendedAt ?? availableParallelism();
  const slots = Array.from({ length: options.workers }, () => new WorkerSlot(options.idleMs, options.logger));
  let nextId = 0;
  return {
    open(spec) {
      // The least busy worker; ties go to the first, so one export keeps to one warm worker.
      const slot = slots.reduce((best, candidate) => (candidate.open < best.open ? candidate : best));
      const encoder = workerEncoder(slot, ++nextId, spec);
      // The exports' threads and the API's now outnumber the cores: the API's goes first from here.
      const open = slots.reduce((sum, each) => sum + each.open, 0);
      if (nice > 0 && open >= contendedAt) for (const each of slots) each.deprioritize(nice);
      return encoder;
    },
    async close() {
      await Promise.all(slots.map((slot) => slot.stop()));
    },
  };
}

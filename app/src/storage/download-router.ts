/**
 * `GET /d/:id/:name?exp=…&sig=…`: serves local exports to whoever holds a valid signed URL
 * (Azure ML, pandas, curl, a browser), with Range support on the decrypted content. Errors go
 * to `next(err)` as AppErrors (403 bad signature, 410 expired, 404 unknown, 416 bad range), so
 * the connector's JSON error middleware renders them.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors.js';
import { decideRange } from './http-range.js';
import type { LocalDownload, LocalExportStore } from './local-export-store.js';

export interface DownloadHooks {
  /** Called once a request is authorised and the file opened, before any byte is sent (the audit trail). */
  onServe?(download: LocalDownload, req: Request): Promise<void>;
}

export function createDownloadRouter(store: Pick<LocalExportStore, 'openDownload'>, hooks: DownloadHooks = {}): Router {
  const router = Router();
  // Express routes HEAD here too; the handler sends headers only.
  router.get('/d/:id/:name', (req: Request, res: Response, next: NextFunction) => {
    serveDownload(store, req, res, hooks).catch(next);
  });
  // Express reports a path it cannot percent-decode as a bare URIError; it is the caller's fault.
  router.use('/d', (error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    next(error instanceof URIError ? new AppError('bad_request', 400, 'The download path is not valid', { cause: error }) : error);
  });
  return router;
}

async function serveDownload(store: Pick<LocalExportStore, 'openDownload'>, req: Request, res: Response, hooks: DownloadHooks): Promise<void> {
  const id = String(req.params.id);
  const name = String(req.params.name);
  const download = await store.openDownload({ id, name, exp: req.query.exp, sig: req.query.sig });
  try {
    await hooks.onServe?.(download, req);
    const etag = `"${download.sha256}"`;
    // If-Range with another validator means "the file changed": send it whole.
    const ifRange = req.headers['if-range'];
    const range = decideRange(ifRange === undefined || ifRange === etag ? req.headers.range : undefined, download.bytes);
    if (range.kind === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${download.bytes}`);
      throw new AppError('bad_request', 416, `The requested range is outside the file of ${download.bytes} bytes`);
    }

    const { start, end } = range.kind === 'partial' ? range : { start: 0, end: download.bytes - 1 };
    const sendsBody = req.method !== 'HEAD' && end >= start;
    // Decrypt the first chunk before any header is set: a wrong key or a tampered file then
    // becomes a clean JSON 500, not a 200 that breaks off after the headers.
    const chunks = sendsBody ? download.read(start, end) : undefined;
    const first = chunks ? await chunks.next() : undefined;

    res.status(range.kind === 'partial' ? 206 : 200);
    res.setHeader('Content-Type', download.contentType);
    res.setHeader('Content-Length', String(end - start + 1));
    if (range.kind === 'partial') res.setHeader('Content-Range', `bytes ${start}-${end}/${download.bytes}`);
    res.setHeader('Content-Disposition', `attachment; filename="${download.name}"`);
    res.setHeader('Cache-Control', 'private, no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('ETag', etag);
    res.setHeader('Last-Modified', download.createdAt.toUTCString());
    if (!chunks || !first) {
      res.end();
      return;
    }
    try {
      await pipeline(Readable.from(prepend(first, chunks)), res);
    } catch (error) {
      // A client that hangs up mid-download is routine (Range resumes), not a server fault.
      if (req.destroyed && (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      throw error;
    }
  } finally {
    await download.close();
  }
}

async function* prepend(first: IteratorResult<Buffer>, rest: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  if (!first.done) yield first.value;
  yield* rest;
}

/**
 * Rules every API answer and request keeps, applied once in front of the routers:
 * - `Cache-Control: no-store` on the API and the stable links: their answers carry session and
 *   access tokens, download URLs and redirects to them, none of which a browser, proxy or
 *   shared cache may keep (RFC 9111 §5.2.2.5).
 * - A request body that is not JSON is 415 before anything reads it: the API speaks JSON only,
 *   and a form post or text body must not reach a route as an empty object.
 */
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors.js';

/** Paths whose answers must never be stored by a cache. */
const NO_STORE_PREFIXES = ['/api/', '/l/'];

export function noStore(req: Request, res: Response, next: NextFunction): void {
  if (NO_STORE_PREFIXES.some((prefix) => req.path.startsWith(prefix))) res.setHeader('Cache-Control', 'no-store');
  next();
}

/** A body is there when it has a length above zero or is chunked (RFC 9112 §6.3). */
function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

export function jsonBodiesOnly(req: Request, _res: Response, next: NextFunction): void {
  if (req.path.startsWith('/api/') && hasBody(req) && !req.is(['application/json', 'application/*+json'])) {
    const type = req.get('content-type');
    next(
      new AppError(
        'unsupported_media_type',
        415,
        `The request body must be JSON (Content-Type: application/json); got ${type ? JSON.stringify(type.slice(0, 100)) : 'no Content-Type'}`,
      ),
    );
    return;
  }
  next();
}

/**
 * The one place errors become HTTP answers: `{error: {code, message, ...details}}`. AppErrors
 * carry their status and a caller-safe message; anything else is an internal error whose details
 * go to the log only.
 */
import type { NextFunction, Request, Response } from 'express';
import { AppError, isAppError } from '../errors.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

function fromBodyParser(error: unknown): AppError | undefined {
  const type = (error as BodyParserError | undefined)?.type;
  if (type === 'entity.too.large') return new AppError('payload_too_large', 413, 'The request body is too large');
  if (type === 'entity.parse.failed') return new AppError('bad_request', 400, 'The request body is not valid JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new AppError('bad_request', 415, 'Unsupported request encoding');
  // Express's own client errors (e.g. a path it cannot decode) carry a 4xx status.
  const status = (error as BodyParserError | undefined)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new AppError('bad_request', status, 'The request could not be understood');
  return undefined;
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError('not_found', 404, `No route for ${req.method} ${req.path}`));
}

export function errorMiddleware(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  const appError = isAppError(error) ? error : (fromBodyParser(error) ?? new AppError('internal', 500, 'Internal error', { cause: error }));
  if (appError.status >= 500) req.log?.error({ err: appError.cause ?? appError, code: appError.code }, appError.message);
  else req.log?.info({ code: appError.code, cause: appError.cause instanceof Error ? appError.cause.message : undefined }, appError.message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (appError.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(appError.retryAfterSeconds));
  res.status(appError.status).json({ error: { code: appError.code, message: appError.message, ...(appError.details ?? {}) } });
}

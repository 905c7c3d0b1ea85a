/**
 * The AppErrors every job store adapter raises, so callers see the same codes whichever backend
 * is configured. Messages are for the API caller; the SDK or driver error goes into `cause`.
 */
import { AppError, isAppError } from '../errors.js';

export const jobStoreNotReady = (cause: unknown): AppError =>
  new AppError('not_ready', 503, 'The job store cannot be reached.', { cause });

export const jobStoreFailed = (cause: unknown): AppError =>
  isAppError(cause)
    ? cause
    : new AppError('storage_error', 503, 'The job store failed; please try again shortly.', { cause, retryAfterSeconds: 5 });

export const jobIdTaken = (id: string, cause?: unknown): AppError =>
  new AppError('conflict', 409, `A job with id ${id} already exists.`, { cause });

export const jobKeptChanging = (id: string, attempts: number): AppError =>
  new AppError('conflict', 409, `Job ${id} changed concurrently ${attempts} times in a row; please retry.`, { retryAfterSeconds: 1 });

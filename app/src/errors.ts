/**
 * The one error type of the connector. Adapters translate SDK and driver errors into it at the
 * boundary; the HTTP error middleware turns it into `{error: {code, message}}` with `status`.
 * `message` is shown to the caller, so it must never carry secrets, stack traces or internal
 * hostnames; put those in `cause`, which only reaches the log.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'sql_rejected'
  | 'table_forbidden'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'password_expired'
  | 'account_disabled'
  | 'account_inactive'
  | 'forbidden'
  | 'unsupported_media_type'
  | 'not_found'
  | 'gone'
  | 'bad_signature'
  | 'conflict'
  | 'rate_limited'
  | 'queue_full'
  | 'payload_too_large'
  | 'insufficient_storage'
  | 'identity_unavailable'
  | 'hive_error'
  | 'hive_forbidden'
  | 'hive_unavailable'
  | 'preview_timeout'
  | 'storage_error'
  | 'not_ready'
  | 'internal';

export interface AppErrorOptions {
  cause?: unknown;
  /** Extra fields safe to show the caller, e.g. `{position: {line, column}}` for the SQL guard. */
  details?: Record<string, unknown>;
  /** Seconds, for 429/503 answers. */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

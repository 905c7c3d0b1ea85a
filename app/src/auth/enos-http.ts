/**
 * POSTs to the EnOS gateway with a time limit per attempt and a bounded number of retries, for
 * transient failures only: network errors, timeouts, HTTP 429 and 5xx. Every other answer (a 4xx,
 * a business error inside a 200) goes back to the caller on the first attempt, because repeating
 * a rejected login only burns the account's failed-login allowance. An earlier sample retried in
 * an unbounded loop; here the worst case is (maxRetries + 1) × timeout plus capped backoff.
 */
import { withDeadline } from '../deadline.js';

export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

export interface EnosTransportOptions {
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  fetch: typeof fetch;
  logger?: WarnLogger;
}

export interface EnosRequest {
  body: string;
  headers: Record<string, string>;
  /** GET for the read-only IAM calls that take query parameters (List Users); the body is then ignored. @default 'POST' */
  method?: 'GET' | 'POST';
}

export interface EnosReply {
  httpStatus: number;
  /** The parsed JSON body, or undefined when the body was empty or not JSON. */
  body: unknown;
}

/** Every attempt failed transiently; `attempts` says how many were made. */
export class EnosUnreachableError extends Error {
  override readonly name = 'EnosUnreachableError';
  constructor(
    message: string,
    readonly attempts: number,
    options: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2_000;

/** Exponential backoff with jitter (half fixed, half random) so instances do not retry in lockstep. */
function backoffMs(attempt: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, BACKOFF_CAP_MS);
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  // undici reports "fetch failed" and puts the useful part (ECONNREFUSED, ENOTFOUND, …) in the cause.
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  return detail === undefined ? `${error.name}: ${error.message}` : `${error.message} (${detail})`;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface EnosTransport {
  /**
   * `build` runs once per attempt, so time-stamped signatures are fresh on every retry.
   * @param retries overrides `maxRetries` for this call (readiness probes and logout use 0).
   */
  post(path: string, build: () => Promise<EnosRequest>, retries?: number): Promise<EnosReply>;
}

export function createEnosTransport(options: EnosTransportOptions): EnosTransport {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    async post(path, build, retries = options.maxRetries) {
      for (let attempt = 0; ; attempt += 1) {
        const request = await build();
        let reason: string;
        let cause: unknown;
        let retryAfterMs: number | undefined;
        try {
          // The deadline covers the answer's body too: a gateway may send headers and then stall.
          const outcome = await withDeadline(options.timeoutMs, async (signal) => {
            const response = await options.fetch(`${base}${path}`, {
              method: request.method ?? 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json', ...request.headers },
              body: request.method === 'GET' ? null : request.body,
              // A redirect is not something to follow with credentials in the body; it comes back as an answer.
              redirect: 'manual',
              signal,
            });
            if (response.status !== 429 && response.status < 500) {
              return { reply: { httpStatus: response.status, body: parseJson(await response.text()) } };
            }
            await response.body?.cancel();
            return { transient: `HTTP ${response.status}`, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
          });
          if (outcome.reply) return outcome.reply;
          reason = outcome.transient;
          retryAfterMs = outcome.retryAfterMs;
        } catch (error) {
          reason = describeFailure(error, options.timeoutMs);
          cause = error;
        }
        if (attempt >= retries) {
          throw new EnosUnreachableError(`EnOS ${path} failed after ${attempt + 1} attempt(s): ${reason}`, attempt + 1, { cause });
        }
        options.logger?.warn({ path, attempt: attempt + 1, maxAttempts: retries + 1, reason }, 'EnOS call failed, retrying');
        await sleep(backoffMs(attempt, retryAfterMs));
      }
    },
  };
}

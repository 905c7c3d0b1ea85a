/**
 * Which storage failures deserve another try, and how long to wait before it. This is the one
 * retry layer of the function: clients.ts turns the SDKs' own retry policies off, because the
 * storage SDK's policy does not retry 429 and cannot see the per-blob failures inside a batch
 * response, and two stacked layers would multiply the attempts and the wait.
 */
import { withDeadline } from './deadline.js';

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Delay after the first failure; it doubles per attempt, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Throttling, server faults and gateway timeouts: the same request may well succeed later. */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Connection-level failures as core-rest-pipeline and Node report them. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'EAI_AGAIN',
  'ENOTFOUND', 'REQUEST_SEND_ERROR', 'UND_ERR_SOCKET',
]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUSES.has(status);
}

interface ErrorLike {
  name?: unknown;
  statusCode?: unknown;
  code?: unknown;
  response?: { headers?: { get(name: string): string | undefined } };
}

export function isTransientError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, statusCode, code } = error as ErrorLike;
  // Our per-request timeout aborts the request; a hung connection is a transient fault.
  if (name === 'AbortError' || name === 'TimeoutError') return true;
  if (typeof statusCode === 'number' && statusCode > 0) return isTransientStatus(statusCode);
  return typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code);
}

/** The server's own hint (Retry-After, in seconds) when it sent one. */
export function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return retryAfterMs((error as ErrorLike).response?.headers?.get('retry-after'));
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so batches
 * that failed together do not come back together. A server hint wins when it is longer.
 */
export function backoffMs(policy: RetryPolicy, failedAttempt: number, hintMs?: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  return Math.min(policy.maxDelayMs, Math.max(jittered, hintMs ?? 0));
}

/** Short, log-safe description of a storage failure: status and service error code. */
export function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { name, statusCode, code } = error as ErrorLike;
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : '';
  const parts = [
    typeof statusCode === 'number' ? `status ${statusCode}` : undefined,
    typeof code === 'string' ? code : undefined,
    name === 'AbortError' || name === 'TimeoutError' ? 'request timed out' : undefined,
  ].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? `${parts.join(' ')}: ${message}` : message;
}

/**
 * Runs storage calls with a per-request timeout and retries transient failures. Also counts the
 * retries, which the run reports in its summary.
 */
export class Retrier {
  retries = 0;

  constructor(
    readonly policy: RetryPolicy,
    private readonly requestTimeoutMs: number,
    private readonly sleep: Sleep,
  ) {}

  /** One attempt under the request timeout: the SDK call is aborted, and the attempt fails, once it exceeds it. */
  attempt<T>(operation: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(this.requestTimeoutMs, operation);
  }

  async run<T>(operation: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(operation);
      } catch (error) {
        if (attempt >= this.policy.maxAttempts || !isTransientError(error)) throw error;
        await this.pause(attempt, retryAfterOf(error));
      }
    }
  }

  /** Waits before attempt `failedAttempt + 1`; for callers that retry part of a result. */
  async pause(failedAttempt: number, hintMs?: number): Promise<void> {
    this.retries++;
    await this.sleep(backoffMs(this.policy, failedAttempt, hintMs));
  }
}

import { RestError } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { classifySubResponse } from '../../../cleanup-function/src/batch-delete.js';
import { backoffMs, describeError, isTransientError, Retrier, retryAfterMs } from '../../../cleanup-function/src/retry.js';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

describe('isTransientError', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries status %i', (statusCode) => {
    expect(isTransientError(new RestError('x', { statusCode }))).toBe(true);
  });

  it.each([400, 401, 403, 404, 409, 412])('does not retry status %i', (statusCode) => {
    expect(isTransientError(new RestError('x', { statusCode }))).toBe(false);
  });

  it('retries connection failures and our own request timeout', () => {
    expect(isTransientError(new RestError('reset', { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError(new RestError('send', { code: 'REQUEST_SEND_ERROR' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(true);
  });

  it('does not retry programming errors', () => {
    expect(isTransientError(new TypeError('x is not a function'))).toBe(false);
    expect(isTransientError('a string')).toBe(false);
  });
});

describe('backoff', () => {
  it('doubles per attempt within [half, full] of the exponential step, capped', () => {
    expect(backoffMs(policy, 1, undefined, () => 0)).toBe(50);
    expect(backoffMs(policy, 1, undefined, () => 1)).toBe(100);
    expect(backoffMs(policy, 3, undefined, () => 1)).toBe(400);
    expect(backoffMs(policy, 10, undefined, () => 1)).toBe(1000);
  });

  it('waits at least as long as the server asked, up to the cap', () => {
    expect(backoffMs(policy, 1, 700, () => 0)).toBe(700);
    expect(backoffMs(policy, 1, 60_000, () => 0)).toBe(1000);
  });

  it('reads Retry-After in seconds', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe('Retrier', () => {
  const noWait = async () => {};

  it('retries transient failures and counts the retries', async () => {
    const retrier = new Retrier(policy, 1000, noWait);
    let calls = 0;
    const result = await retrier.run(async () => {
      calls++;
      if (calls < 3) throw new RestError('busy', { statusCode: 503 });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(retrier.retries).toBe(2);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const retrier = new Retrier(policy, 1000, noWait);
    let calls = 0;
    await expect(
      retrier.run(async () => {
        calls++;
        throw new RestError(`busy ${calls}`, { statusCode: 500 });
      }),
    ).rejects.toThrow('busy 4');
    expect(calls).toBe(4);
  });

  it('does not retry a permanent failure', async () => {
    const retrier = new Retrier(policy, 1000, noWait);
    let calls = 0;
    await expect(
      retrier.run(async () => {
        calls++;
        throw new RestError('forbidden', { statusCode: 403 });
      }),
    ).rejects.toThrow('forbidden');
    expect(calls).toBe(1);
  });

  it('aborts the signal of an attempt that outlives the request timeout, and fails the attempt then, even if it ignores the signal', async () => {
    const retrier = new Retrier({ ...policy, maxAttempts: 1 }, 20, noWait);
    let handed: AbortSignal | undefined;
    const failure = await retrier
      .run((signal) => {
        handed = signal;
        return new Promise<never>(() => {});
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'TimeoutError' });
    expect(handed?.aborted).toBe(true);
  });
});

describe('batch sub-response outcomes', () => {
  it.each([
    [202, undefined, 'deleted'],
    [404, 'BlobNotFound', 'alreadyGone'],
    [412, 'ConditionNotMet', 'skipped'],
    [412, 'LeaseIdMissing', 'failed'],
    [409, 'SnapshotsPresent', 'failed'],
    [403, 'AuthorizationPermissionMismatch', 'failed'],
    [429, undefined, 'retry'],
    [500, 'InternalError', 'retry'],
    [503, 'ServerBusy', 'retry'],
  ])('%i %s is %s', (status, code, outcome) => {
    expect(classifySubResponse(status, code)).toBe(outcome);
  });
});

describe('describeError', () => {
  it('shows status and service code, first line only', () => {
    expect(describeError(new RestError('The specified container does not exist.\nRequestId:1', { statusCode: 404, code: 'ContainerNotFound' }))).toBe(
      'status 404 ContainerNotFound: The specified container does not exist.',
    );
  });
});

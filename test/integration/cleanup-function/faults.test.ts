/**
 * Transient faults injected on the wire (a proxy between the SDK and Azurite): throttling,
 * server errors, a request that never answers, and per-blob errors inside a batch response.
 * The run retries them and still ends with exactly the expected blobs deleted; what keeps
 * failing is counted, reported, and deleted by the next run.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCleanup } from '../../../cleanup-function/src/cleanup.js';
import { isBatch, isListing, isTagQuery, startStorageProxy, type ProxiedRequest, type ProxyAction, type StorageProxy } from './storage-proxy.js';
import { blobs, createContainer, DAY, memoryLog, names, runtimeFor, seed, viaProxy } from './fixtures.js';

const azurite = inject('azurite');

/** Answers the nth request matching `match` (1-based) with `action`, forwards the rest. */
function faultPlan(rules: Array<{ match: (request: ProxiedRequest) => boolean; nth: number; action: ProxyAction }>) {
  const counts = new Map<(typeof rules)[number], number>();
  return (request: ProxiedRequest): ProxyAction => {
    for (const rule of rules) {
      if (!rule.match(request)) continue;
      const count = (counts.get(rule) ?? 0) + 1;
      counts.set(rule, count);
      if (count === rule.nth) return rule.action;
    }
    return { kind: 'forward' };
  };
}

const serverBusy = (status: number, headers: Record<string, string> = {}): ProxyAction => ({
  kind: 'respond',
  status,
  headers: { 'x-ms-error-code': status === 429 ? 'TooManyRequests' : 'ServerBusy', ...headers },
  body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>injected</Message></Error>',
});

describe('cleanup under transient storage faults', () => {
  let proxy: StorageProxy;
  let container: ContainerClient;

  beforeAll(async () => {
    proxy = await startStorageProxy(new URL(azurite.blobEndpoint).origin);
  });
  afterEach(async () => {
    proxy.intercept(undefined);
    await container?.deleteIfExists();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('retries 429, 5xx, a hung request and per-blob 503s, and deletes exactly the expired blobs', async () => {
    container = await createContainer(azurite.connectionString, 'faults');
    const past = new Date(Date.now() - DAY).toISOString();
    const future = new Date(Date.now() + DAY).toISOString();
    const expired = blobs(300, () => ({ tag: past }));
    const untaggedOld = blobs(40, () => ({ metadata: past }));
    const live = blobs(60, () => ({ tag: future }));
    await seed(container, [...expired, ...untaggedOld, ...live]);

    proxy.intercept(
      faultPlan([
        { match: isTagQuery, nth: 1, action: serverBusy(503) },
        { match: isBatch, nth: 1, action: serverBusy(500) },
        { match: isBatch, nth: 2, action: serverBusy(429, { 'retry-after': '0' }) },
        { match: isBatch, nth: 3, action: { kind: 'hang' } },
        {
          // Azurite deletes the whole batch, but three of its answers arrive as 503: those three
          // are sent again, find nothing, and count as already gone.
          match: isBatch,
          nth: 4,
          action: { kind: 'forward', rewriteBody: (body) => rewriteFirst(body, 'HTTP/1.1 202 Accepted', 'HTTP/1.1 503 Server Busy', 3) },
        },
        { match: isListing, nth: 1, action: serverBusy(502) },
      ]),
    );
    const proxied = viaProxy(azurite.connectionString, { blob: proxy.url('/devstoreaccount1') });
    const { deps, options } = runtimeFor(proxied, container, { batchSize: 25, requestTimeoutMs: 5_000 });
    const summary = await runCleanup({ ...deps, log: memoryLog() }, options);

    expect(summary).toMatchObject({ found: 340, failed: 0, skipped: 0, errors: [], complete: true });
    expect(summary.deleted + summary.alreadyGone).toBe(340);
    // At least: the three rewritten answers. More only if a busy Azurite made a batch time out.
    expect(summary.alreadyGone).toBeGreaterThanOrEqual(3);
    // One retry per injected fault: query, 500, 429, timeout, the three per-blob 503s (one retry), listing.
    expect(summary.retries).toBeGreaterThanOrEqual(6);
    expect(await names(container)).toEqual(new Set(live.map((blob) => blob.name)));
  });

  it('reports what still fails after the retries, and the next run deletes it', async () => {
    container = await createContainer(azurite.connectionString, 'faults');
    const past = new Date(Date.now() - DAY).toISOString();
    const expired = blobs(60, () => ({ tag: past }));
    await seed(container, expired);
    const proxied = viaProxy(azurite.connectionString, { blob: proxy.url('/devstoreaccount1') });
    const { deps, options } = runtimeFor(proxied, container, { batchSize: 25, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });

    // Every batch request is refused: the storage account is overloaded for the whole run.
    proxy.intercept((request) => (isBatch(request) ? serverBusy(503) : { kind: 'forward' }));
    const log = memoryLog();
    const first = await runCleanup({ ...deps, log }, options);
    expect(first).toMatchObject({ found: 60, deleted: 0, failed: 60, errors: [] });
    expect(first.retries).toBe(3 * 2);
    expect(log.lines.filter((line) => line.level === 'warn' && line.text.includes('could not delete'))).toHaveLength(20);
    expect((await names(container)).size).toBe(60);

    proxy.intercept(undefined);
    const second = await runCleanup({ ...deps, log: memoryLog() }, options);
    expect(second).toMatchObject({ found: 60, deleted: 60, failed: 0 });
    expect(await names(container)).toEqual(new Set());
  });
});

function rewriteFirst(text: string, from: string, to: string, times: number): string {
  let result = text;
  for (let i = 0; i < times; i++) result = result.replace(from, to);
  return result;
}

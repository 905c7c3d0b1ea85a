/**
 * The cleanup function's per-request timeout against storage that accepts connections and never
 * answers, with full garbage collections forced while each deadline is pending: every pass
 * (tag query, batch delete, fallback listing, job marking) gives up on each attempt once the
 * timeout passes, retries, and the run ends and reports what it could not do, instead of hanging
 * until the Functions host kills it.
 */
import { describe, expect, it } from 'vitest';
import { runCleanup } from '../../../cleanup-function/src/cleanup.js';
import { createCleanupRuntime } from '../../../cleanup-function/src/clients.js';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../../../scripts/lib/azurite.js';
import { settleUnderGc } from '../../support/forced-gc.js';
import { withPartlySilentServer, withSilentServer, type SilentAnswer } from '../../support/silent-server.js';
import { memoryLog, TEST_OPTIONS } from './fixtures.js';

const TIMEOUT_MS = 1_000;
const ATTEMPTS = 2;
const GIVE_UP_MS = 30_000;

function runAgainst(url: string, options: { jobTable?: string; fallbackMaxBlobs?: number } = {}) {
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
    `BlobEndpoint=${url}/${AZURITE_ACCOUNT_NAME};TableEndpoint=${url}/${AZURITE_ACCOUNT_NAME};`;
  const runtime = createCleanupRuntime({
    storage: { kind: 'connectionString', connectionString },
    container: 'exports',
    ...(options.jobTable ? { jobTable: options.jobTable } : {}),
    options: {
      ...TEST_OPTIONS,
      ...(options.fallbackMaxBlobs === undefined ? {} : { fallbackMaxBlobs: options.fallbackMaxBlobs }),
      requestTimeoutMs: TIMEOUT_MS,
      retry: { maxAttempts: ATTEMPTS, baseDelayMs: 5, maxDelayMs: 20 },
    },
  });
  return runCleanup({ ...runtime.deps, log: memoryLog() }, runtime.options);
}

/** One expired export in the tag index; every other request (the batch delete among them) hangs. */
const oneExpiredBlob: SilentAnswer = ({ method, url }) => {
  if (method === 'GET' && url.includes('comp=blobs') && url.includes('where=')) {
    return {
      status: 200,
      headers: { 'content-type': 'application/xml', 'x-ms-version': '2025-07-05' },
      body:
        '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://127.0.0.1/devstoreaccount1/">' +
        '<Where>expired</Where><Blobs><Blob><Name>owner-1/job-1/export.csv</Name><ContainerName>exports</ContainerName>' +
        '<Tags><TagSet><Tag><Key>expiresAt</Key><Value>2020-01-01T00:00:00.000Z</Value></Tag></TagSet></Tags></Blob></Blobs>' +
        '<NextMarker /></EnumerationResults>',
    };
  }
  return undefined;
};

describe('cleanup request deadlines under garbage collection', () => {
  it('ends a run against storage that never answers, with every pass reported as timed out', async () => {
    await withSilentServer(async (url) => {
      const settled = await settleUnderGc(() => runAgainst(url, { jobTable: 'exportjobs' }), { giveUpAfterMs: GIVE_UP_MS });
      expect(settled.outcome, `the run was still going ${GIVE_UP_MS} ms in`).toBe('resolved');
      const summary = settled.value!;
      expect(summary.complete).toBe(false);
      expect(summary.errors).toEqual([
        expect.stringMatching(/^tag query stopped: request timed out/),
        expect.stringMatching(/^fallback listing stopped: request timed out/),
        expect.stringMatching(/^job marking stopped: request timed out/),
      ]);
      expect(summary.retries).toBe(3 * (ATTEMPTS - 1));
      // Three passes, each given ATTEMPTS tries of TIMEOUT_MS.
      expect(settled.elapsedMs).toBeGreaterThanOrEqual(3 * ATTEMPTS * TIMEOUT_MS * 0.9);
    });
  });

  it('gives up on a batch delete that never gets an answer, and counts the blob as failed', async () => {
    await withPartlySilentServer(oneExpiredBlob, async (url) => {
      const settled = await settleUnderGc(() => runAgainst(url, { fallbackMaxBlobs: 0 }), { giveUpAfterMs: GIVE_UP_MS });
      expect(settled.outcome, `the run was still going ${GIVE_UP_MS} ms in`).toBe('resolved');
      expect(settled.value?.errors).toEqual([]);
      expect(settled.value).toMatchObject({ found: 1, deleted: 0, failed: 1, complete: true });
      expect(settled.elapsedMs).toBeGreaterThanOrEqual(ATTEMPTS * TIMEOUT_MS * 0.9);
    });
  });
});

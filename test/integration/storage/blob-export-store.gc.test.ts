/**
 * Every call of the blob store against an endpoint that accepts connections and never answers,
 * with full garbage collections forced while the deadline is pending: each call fails with
 * `storage_error` once its deadline passes. The block upload used to combine the stream's signal
 * with `AbortSignal.timeout()` through `AbortSignal.any()`, whose timeout signal the GC collects
 * before it fires; its export then stayed `running` for good.
 */
import { Agent } from 'node:https';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../app/src/errors.js';
import { createBlobExportStore, type BlobExportStoreOptions } from '../../../app/src/storage/blob-export-store.js';
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../../../scripts/lib/azurite.js';
import { settleUnderGc } from '../../support/forced-gc.js';
import { withSilentServer } from '../../support/silent-server.js';
import { csvOf, target, writeAll } from './export-store.contract.js';
import { fakeEntraCredential } from './fake-entra-credential.js';

const DEADLINE_MS = 1_500;
/** Far past the deadline: a call still pending then has no working deadline. */
const GIVE_UP_MS = 20_000;

const silentStore = (url: string, overrides: Partial<BlobExportStoreOptions> = {}) =>
  createBlobExportStore({
    container: 'exports',
    credential: {
      kind: 'connectionString',
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${url}/${AZURITE_ACCOUNT_NAME};`,
    },
    blockSize: 16 * 1024,
    uploadConcurrency: 2,
    operationTimeoutMs: DEADLINE_MS,
    ...overrides,
  });

async function expectStorageErrorWithinDeadline(call: () => Promise<unknown>) {
  const settled = await settleUnderGc(call, { giveUpAfterMs: GIVE_UP_MS });
  expect(settled.outcome, `still pending ${GIVE_UP_MS} ms after a ${DEADLINE_MS} ms deadline`).toBe('rejected');
  expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === 'storage_error');
  expect((settled.error as Error).message).toMatch(/did not answer within 1\.5 s/);
  expect(settled.elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS * 0.9);
}

describe('blob store deadlines under garbage collection', () => {
  it('fails a block upload that never gets an answer', async () => {
    await withSilentServer(async (url) => {
      const writer = await silentStore(url).begin(target());
      await expectStorageErrorWithinDeadline(() => writeAll(writer, csvOf(5_000), 8 * 1024));
      await writer.abort();
    });
  });

  it('fails the commit that never gets an answer', async () => {
    await withSilentServer(async (url) => {
      const writer = await silentStore(url).begin(target());
      await writeAll(writer, Buffer.alloc(0), 1);
      await expectStorageErrorWithinDeadline(() => writer.commit({ rows: 0, truncated: false }));
      await writer.abort();
    });
  });

  it('fails moving an expiry, deleting and creating the container when nothing answers', async () => {
    await withSilentServer(async (url) => {
      const store = silentStore(url);
      const ref = { method: 'blob' as const, location: 'owner/job/file.csv' };
      await expectStorageErrorWithinDeadline(() => store.extendExpiry(ref, { ...target(), expiresAt: new Date(Date.now() + 3_600_000) }));
      await expectStorageErrorWithinDeadline(() => store.delete(ref));
      await expectStorageErrorWithinDeadline(() => store.ensureContainer());
    });
  });

  it('answers not ready when the readiness probe gets no answer', async () => {
    await withSilentServer(async (url) => {
      const settled = await settleUnderGc(() => silentStore(url).checkReady(), { giveUpAfterMs: GIVE_UP_MS });
      expect(settled.outcome).toBe('rejected');
      expect(settled.error).toSatisfy((error) => isAppError(error) && error.code === 'not_ready');
    });
  });

  it('fails signing a download URL when the user delegation key request gets no answer', async () => {
    await withSilentServer(
      async (url, endpoint) => {
        const store = silentStore(url, {
          credential: { kind: 'tokenCredential', accountUrl: `${url}/${AZURITE_ACCOUNT_NAME}`, credential: fakeEntraCredential() },
          httpsAgent: new Agent({ ca: endpoint.caCertPem }),
        });
        const t = target();
        await expectStorageErrorWithinDeadline(() => store.downloadUrl({ method: 'blob', location: `${t.ownerId}/${t.jobId}/${t.fileName}.csv` }, t));
      },
      { tls: true },
    );
  });
});

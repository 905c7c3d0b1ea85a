/**
 * The blob store as it runs in Azure: a token credential (the managed identity's stand-in) and
 * user-delegation SAS, against its own Azurite with `--oauth basic` over HTTPS. The emulator's
 * self-signed certificate is trusted through an https.Agent given to the store and a per-request
 * CA for downloads; TLS verification stays on.
 */
import { Agent } from 'node:https';
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type RunningAzurite } from '../../../scripts/lib/azurite.js';
import { DEFAULT_SAS_VERSION } from '../../../app/src/storage/blob-sas.js';
import { createBlobExportStore } from '../../../app/src/storage/blob-export-store.js';
import { httpsDownload } from './download-client.js';
import { blobContainerProbe, blobUrlExpiry, commitSmall, describeExportStoreContract, target } from './export-store.contract.js';
import { fakeEntraCredential } from './fake-entra-credential.js';

const DAY = 24 * 3600 * 1000;
const containerName = `exports-${randomUUID().slice(0, 8)}`;
const credential = fakeEntraCredential();
let azurite: RunningAzurite;
let agent: Agent;
let direct: ContainerClient;

const store = (clock?: () => Date) =>
  createBlobExportStore({
    container: containerName,
    credential: { kind: 'tokenCredential', accountUrl: azurite.blobEndpoint, credential },
    httpsAgent: agent,
    blockSize: 64 * 1024,
    ...(clock ? { clock } : {}),
  });

beforeAll(async () => {
  azurite = await startAzurite({ oauth: true });
  agent = new Agent({ ca: azurite.caCertPem, keepAlive: true });
  await store().ensureContainer();
  const options: StoragePipelineOptions & { agent: Agent } = { agent };
  direct = new BlobServiceClient(azurite.blobEndpoint, credential, options).getContainerClient(containerName);
});

afterAll(async () => {
  await direct?.deleteIfExists();
  agent?.destroy();
  await azurite?.stop();
});

describeExportStoreContract('blob, user-delegation SAS over HTTPS', () => ({
  download: httpsDownload(azurite.caCertPem!),
  urlExpiry: blobUrlExpiry,
  async create(clock) {
    return { store: store(clock), ...blobContainerProbe(direct) };
  },
}));

describe('user-delegation SAS', () => {
  it('is signed with a delegation key of the managed identity, HTTPS only, pinned version', async () => {
    const t = target();
    const ref = await commitSmall(store(), t);
    const params = new URL(await store().downloadUrl(ref, t)).searchParams;
    expect(params.get('skoid')).toBe(credential.objectId);
    expect(params.get('sktid')).toBe(credential.tenantId);
    expect(params.get('sks')).toBe('b');
    expect(params.get('spr')).toBe('https');
    expect(params.get('sv')).toBe(DEFAULT_SAS_VERSION);
    expect(params.get('sp')).toBe('r');
    expect(params.get('sr')).toBe('b');
    expect(credential.requestedScopes.flat()).toContain('https://storage.azure.com/.default');
  });

  it('reuses one delegation key while it covers the window, and fetches another when it does not', async () => {
    let offset = 0;
    const clocked = store(() => new Date(Date.now() + offset));
    const t = target();
    const ref = await commitSmall(clocked, t);
    const keyOf = async (expiresAt: Date) => {
      const params = new URL(await clocked.downloadUrl(ref, { ...t, expiresAt })).searchParams;
      return `${params.get('skt')}..${params.get('ske')}`;
    };

    const first = await keyOf(t.expiresAt);
    expect(await keyOf(new Date(t.expiresAt.getTime() + DAY))).toBe(first);
    // Six days on, a 2-day link reaches past the first key's 7 days: a new key is needed.
    offset = 6 * DAY;
    const later = await keyOf(new Date(Date.now() + offset + 2 * DAY));
    expect(later).not.toBe(first);
  });

  it('clamps a full 7-day link to the delegation key it is signed with', async () => {
    const t = target();
    const ref = await commitSmall(store(), t);
    const requested = new Date(Date.now() + 7 * DAY);
    const url = await store().downloadUrl(ref, { ...t, expiresAt: requested });
    const params = new URL(url).searchParams;
    const signedExpiry = Date.parse(params.get('se')!);
    expect(signedExpiry).toBeLessThanOrEqual(Date.parse(params.get('ske')!));
    expect(requested.getTime() - signedExpiry).toBeLessThanOrEqual(6 * 60 * 1000);
    expect((await httpsDownload(azurite.caCertPem!)(url)).status).toBe(200);
  });
});

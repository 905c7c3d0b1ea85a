/**
 * Benchmark: the cleanup (one tag query, batch deletes, the bounded fallback listing) against
 * the naive way (list every blob, read its properties, delete the expired ones one at a time),
 * each on its own fresh Azurite seeded with the same 20,000 expired and 20,000 live exports.
 * Prints wall time, HTTP requests and the ratios. `npm run bench cleanup`.
 *
 * Azurite is started with three emulator fixes preloaded, for this benchmark only; without them
 * the benchmark would measure the emulator, not the cleanup (details in cleanup-function/README.md):
 *   1. Find Blobs by Tags paging: Azurite 3.35 looks at the first 5,000 blobs of a query and
 *      returns no continuation when fewer of them match, so a tag query never gets past them.
 *   2. and 3. Index use: LokiJS uses only the first field's index (Azurite queries by account
 *      first, so every blob lookup scans the account) and re-sorts every index on each delete.
 *      At 20,000 blobs a single delete took ~235 ms; with the fixes ~2 ms. Semantics unchanged.
 */
import diagnostics from 'node:diagnostics_channel';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { DEFAULT_CLEANUP_OPTIONS, runCleanup } from '../../cleanup-function/src/cleanup.js';
import { createCleanupRuntime } from '../../cleanup-function/src/clients.js';
import type { CleanupSummary } from '../../cleanup-function/src/summary.js';
import { startAzurite, type RunningAzurite } from '../lib/azurite.js';

export interface CleanupBenchScale {
  expired: number;
  live: number;
}

const SEED_CONCURRENCY = 32;
/** A same-region Azure round trip, for the latency estimate printed after the measurements. */
const ASSUMED_RTT_MS = 5;

const emulatorFixes = (azuriteDir: string) => `
// Written by scripts/bench/cleanup.ts; preloaded into Azurite for the cleanup benchmark only.
const path = require('node:path');
const azuriteDir = ${JSON.stringify(azuriteDir)};
const Loki = require(require.resolve('lokijs', { paths: [azuriteDir] }));

// Fix 2: query by name first, so LokiJS answers from the binary index on name.
const find = Loki.Resultset.prototype.find;
Loki.Resultset.prototype.find = function (query, firstOnly) {
  if (query && typeof query === 'object' && !Array.isArray(query) && Object.keys(query).length > 1 && 'name' in query) {
    const { name, ...rest } = query;
    return find.call(this, { name, ...rest }, firstOnly);
  }
  return find.call(this, query, firstOnly);
};

// Fix 3: remove a few documents one by one (indexes updated in place), not by re-sorting them all.
const remove = Loki.Resultset.prototype.remove;
Loki.Resultset.prototype.remove = function () {
  if (this.filterInitialized && this.filteredrows.length <= 8) {
    for (const doc of this.filteredrows.map((position) => this.collection.data[position])) this.collection.remove(doc);
    this.filteredrows = [];
    return this;
  }
  return remove.call(this);
};

// Fix 1: page a tag query through every candidate, with a continuation when a page is full.
const Store = require(path.join(azuriteDir, 'dist/src/blob/persistence/LokiBlobMetadataStore.js')).default;
const { generateQueryBlobWithTagsWhereFunction } = require(path.join(azuriteDir, 'dist/src/blob/persistence/QueryInterpreter/QueryInterpreter.js'));
const { toBlobTags } = require(path.join(azuriteDir, 'dist/src/blob/utils/utils.js'));
Store.prototype.filterBlobs = async function (context, account, container, where, maxResults = 5000, marker = '') {
  const query = { accountName: account };
  if (container !== undefined) {
    query.containerName = container;
    await this.checkContainerExist(context, account, container);
  }
  const matches = generateQueryBlobWithTagsWhereFunction(context, where);
  const after = marker || '';
  const candidates = this.db.getCollection(this.BLOBS_COLLECTION).chain().find(query)
    .where((doc) => doc.name > after && !doc.snapshot).simplesort('name').data();
  const page = [];
  for (const doc of candidates) {
    const matched = matches({ name: doc.name, containerName: doc.containerName, tags: doc.blobTags });
    if (matched.length === 0) continue;
    if (page.length === maxResults) return [page, page[page.length - 1].name];
    page.push({ name: doc.name, containerName: doc.containerName, tags: { blobTagSet: toBlobTags(matched) } });
  }
  return [page, ''];
};
`;

/** HTTP requests this process sends, counted where Node sends them. */
let requestsSent = 0;
diagnostics.subscribe('http.client.request.start', () => {
  requestsSent++;
});

async function measure<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; requests: number }> {
  const requestsBefore = requestsSent;
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started, requests: requestsSent - requestsBefore };
}

async function startFixedAzurite(preload: string): Promise<RunningAzurite> {
  // The child inherits the environment at spawn time; restore it at once.
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${saved ?? ''} --require ${preload}`.trim();
  try {
    return await startAzurite({ extentMemoryLimitMb: 1024 });
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
}

/**
 * Exports as the connector writes them (tag and metadata). Names carry a random job id, so
 * expired and live exports interleave in name order, as they do in a real container.
 */
async function seed(container: ContainerClient, scale: CleanupBenchScale, now: number): Promise<void> {
  const expired = new Date(now - 24 * 3600 * 1000).toISOString();
  const live = new Date(now + 24 * 3600 * 1000).toISOString();
  const total = scale.expired + scale.live;
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const expiresAt = index < scale.expired ? expired : live;
      await container
        .getBlockBlobClient(`owner-${index % 97}/${randomUUID()}/enos-export.csv`)
        .upload('ts,value\n', 9, { tags: { expiresAt }, metadata: { expiresat: expiresAt } });
    }
  };
  await container.create();
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}

/** The baseline: what the original sample did, but awaited and by metadata instead of by name. */
async function naiveCleanup(container: ContainerClient, now: Date): Promise<number> {
  let deleted = 0;
  for await (const blob of container.listBlobsFlat()) {
    const client = container.getBlobClient(blob.name);
    const properties = await client.getProperties();
    const expiresAt = properties.metadata?.expiresat;
    if (expiresAt !== undefined && expiresAt < now.toISOString()) {
      await client.delete();
      deleted++;
    }
  }
  return deleted;
}

async function countBlobs(container: ContainerClient): Promise<number> {
  let count = 0;
  for await (const page of container.listBlobsFlat().byPage({ maxPageSize: 5000 })) count += page.segment.blobItems.length;
  return count;
}

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const quiet = { log: () => {}, warn: () => {}, error: () => {} };

export default async function run(scale: CleanupBenchScale = { expired: 20_000, live: 20_000 }): Promise<void> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'cleanup-bench-'));
  const preload = path.join(scratch, 'azurite-emulator-fixes.cjs');
  const azuriteDir = path.dirname(createRequire(import.meta.url).resolve('azurite/package.json'));
  await writeFile(preload, emulatorFixes(azuriteDir));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`cleanup bench: ${scale.expired} expired + ${scale.live} live exports per run, each run on a fresh in-memory Azurite (emulator fixes preloaded)`);

  try {
    const naive = await withSeededAzurite(preload, scale, 'naive', async (container, now) => naiveCleanup(container, now));
    out(`  naive   : ${seconds(naive.ms).padStart(8)}  ${String(naive.requests).padStart(6)} HTTP requests  deleted ${naive.result}  (seeded in ${seconds(naive.seedMs)})`);

    const cleanup = await withSeededAzurite(preload, scale, 'cleanup', async (container, now, azurite) => {
      const { deps, options } = createCleanupRuntime({
        storage: { kind: 'connectionString', connectionString: azurite.connectionString },
        container: container.containerName,
        options: DEFAULT_CLEANUP_OPTIONS,
      });
      return runCleanup({ ...deps, clock: () => now, log: quiet }, options);
    });
    const summary: CleanupSummary = cleanup.result;
    out(
      `  cleanup : ${seconds(cleanup.ms).padStart(8)}  ${String(cleanup.requests).padStart(6)} HTTP requests  deleted ${summary.deleted}` +
        `  (found ${summary.found} by tag, fallback listed ${summary.fallbackListed}, failed ${summary.failed}; seeded in ${seconds(cleanup.seedMs)})`,
    );
    out(`  ratio   : ${(naive.ms / cleanup.ms).toFixed(1)}x less wall time, ${(naive.requests / cleanup.requests).toFixed(0)}x fewer HTTP requests`);
    out(
      `  at a ${ASSUMED_RTT_MS} ms round trip (estimate, not measured): the naive way's sequential requests alone wait ` +
        `${seconds(naive.requests * ASSUMED_RTT_MS)}; the cleanup's, at most ${seconds(cleanup.requests * ASSUMED_RTT_MS)}`,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function withSeededAzurite<T>(
  preload: string,
  scale: CleanupBenchScale,
  label: string,
  work: (container: ContainerClient, now: Date, azurite: RunningAzurite) => Promise<T>,
): Promise<{ result: T; ms: number; requests: number; seedMs: number }> {
  const azurite = await startFixedAzurite(preload);
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(`bench-${label}`);
    const now = Date.now();
    const seeding = await measure(() => seed(container, scale, now));
    const measured = await measure(() => work(container, new Date(now), azurite));
    const left = await countBlobs(container);
    if (left !== scale.live) throw new Error(`${label}: ${left} blobs left after the run; expected the ${scale.live} live ones`);
    return { ...measured, seedMs: seeding.ms };
  } finally {
    await azurite.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}

/**
 * Shared setup for the cleanup suites: a unique container, blobs seeded the way the connector
 * writes them (tag `expiresAt` + metadata `expiresat`) or the ways older/hand-made ones look, and
 * a runtime built by the product's own client factory (so SDK retries are off, as in Azure).
 */
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createCleanupRuntime, type CleanupRuntime } from '../../../cleanup-function/src/clients.js';
import { DEFAULT_CLEANUP_OPTIONS, type CleanupOptions } from '../../../cleanup-function/src/cleanup.js';
import type { CleanupLog } from '../../../cleanup-function/src/log.js';

export const HOUR = 3600 * 1000;
export const DAY = 24 * HOUR;

/**
 * Fast retries so a suite with injected faults stays quick. The timeout is generous: Azurite
 * serves one request at a time and a delete costs it more the more blobs it holds (every suite's),
 * so a batch of 256 can take seconds here where Azure takes a fraction of one.
 */
export const TEST_OPTIONS: CleanupOptions = {
  ...DEFAULT_CLEANUP_OPTIONS,
  concurrency: 2,
  retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 50 },
  requestTimeoutMs: 120_000,
};

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createContainer(connectionString: string, prefix = 'cleanup'): Promise<ContainerClient> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(uniqueName(prefix));
  await container.create();
  return container;
}

export interface SeedBlob {
  name: string;
  /** Value of the `expiresAt` index tag; absent = an untagged blob. */
  tag?: string;
  /** Value of the `expiresat` metadata; absent = none. */
  metadata?: string;
  /** The metadata name to write it under (Azure keeps the case it was written in). @default 'expiresat' */
  metadataName?: string;
}

/** Names shaped like the connector's, owners interleaved so categories mix in name order. */
export function exportName(index: number): string {
  return `owner-${index % 37}/job-${randomUUID()}/enos-export.csv`;
}

export function blobs(count: number, make: (name: string) => Omit<SeedBlob, 'name'>): SeedBlob[] {
  return Array.from({ length: count }, () => {
    const name = exportName(Math.floor(Math.random() * 1000));
    return { name, ...make(name) };
  });
}

export async function seed(container: ContainerClient, items: SeedBlob[], concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await container.getBlockBlobClient(item.name).upload('a,b\n1,2\n', 8, {
        tags: item.tag === undefined ? undefined : { expiresAt: item.tag },
        metadata: item.metadata === undefined ? undefined : { [item.metadataName ?? 'expiresat']: item.metadata },
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function names(container: ContainerClient): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const blob of container.listBlobsFlat()) found.add(blob.name);
  return found;
}

export function runtimeFor(connectionString: string, container: ContainerClient, options: Partial<CleanupOptions> = {}, jobTable?: string): CleanupRuntime {
  return createCleanupRuntime({
    storage: { kind: 'connectionString', connectionString },
    container: container.containerName,
    jobTable,
    options: { ...TEST_OPTIONS, ...options },
  });
}

/** Connection string whose blob (and table) endpoints go through a proxy instead. */
export function viaProxy(connectionString: string, endpoints: { blob?: string; table?: string }): string {
  return connectionString
    .split(';')
    .map((part) => {
      if (endpoints.blob && part.startsWith('BlobEndpoint=')) return `BlobEndpoint=${endpoints.blob}`;
      if (endpoints.table && part.startsWith('TableEndpoint=')) return `TableEndpoint=${endpoints.table}`;
      return part;
    })
    .join(';');
}

/** A log that keeps lines for assertions and stays quiet. */
export function memoryLog(): CleanupLog & { lines: Array<{ level: string; text: string }> } {
  const lines: Array<{ level: string; text: string }> = [];
  const push = (level: string) => (...args: unknown[]) => lines.push({ level, text: args.map(String).join(' ') });
  return { lines, log: push('info'), warn: push('warn'), error: push('error') };
}

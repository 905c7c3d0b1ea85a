/**
 * Builds the storage clients a run needs from the settings: a connection string locally
 * (Azurite, or an operator's manual sweep), a token credential in Azure (the function's managed
 * identity; the CLI passes the developer's credential). The SDKs' own retries are turned off:
 * retry.ts is the one retry layer, so attempts and waits do not multiply.
 */
import { TableClient } from '@azure/data-tables';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import type { CleanupDeps, CleanupOptions } from './cleanup.js';
import type { CleanupConfig } from './config.js';

/** Everything a run needs except the logger, which belongs to each invocation. */
export interface CleanupRuntime {
  deps: Omit<CleanupDeps, 'log'>;
  options: CleanupOptions;
  /** Where telemetry goes, if anywhere; the handler starts it (see telemetry.ts). */
  telemetry?: CleanupConfig['telemetry'];
}

const BLOB_PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 1 } };
const TABLE_RETRY = { retryOptions: { maxRetries: 0 } };

export function createCleanupRuntime(config: CleanupConfig, credential?: TokenCredential): CleanupRuntime {
  const { storage } = config;
  let service: BlobServiceClient;
  let table: (name: string) => TableClient | undefined;
  if (storage.kind === 'connectionString') {
    service = BlobServiceClient.fromConnectionString(storage.connectionString, BLOB_PIPELINE);
    table = (name) =>
      TableClient.fromConnectionString(storage.connectionString, name, {
        ...TABLE_RETRY,
        // Azurite speaks plain HTTP; the Tables SDK refuses it unless told.
        allowInsecureConnection: tableEndpointIsHttp(storage.connectionString),
      });
  } else {
    const identity =
      credential ??
      new ManagedIdentityCredential(storage.managedIdentityClientId ? { clientId: storage.managedIdentityClientId } : {});
    service = new BlobServiceClient(storage.blobEndpoint, identity, BLOB_PIPELINE);
    table = (name) => (storage.tableEndpoint ? new TableClient(storage.tableEndpoint, name, identity, TABLE_RETRY) : undefined);
  }
  const jobs = config.jobTable ? table(config.jobTable) : undefined;
  const audit = config.auditTable ? table(config.auditTable) : undefined;
  return {
    deps: {
      container: service.getContainerClient(config.container),
      service,
      jobs,
      audit,
      clock: () => new Date(),
    },
    options: config.options,
    ...(config.telemetry ? { telemetry: config.telemetry } : {}),
  };
}

function tableEndpointIsHttp(connectionString: string): boolean {
  const settings = new Map(
    connectionString
      .split(';')
      .map((part) => part.split('='))
      .filter((pair): pair is [string, string] => pair.length >= 2)
      .map(([key, value]) => [key.trim().toLowerCase(), value.trim()]),
  );
  const endpoint = settings.get('tableendpoint');
  if (endpoint) return endpoint.toLowerCase().startsWith('http:');
  return settings.get('defaultendpointsprotocol')?.toLowerCase() === 'http';
}

import { describe, expect, it } from 'vitest';
import { loadCleanupConfig, loadSchedule, parseSchedule } from '../../../cleanup-function/src/config.js';
import { emptySummary, formatSummary, hasFailures } from '../../../cleanup-function/src/summary.js';

const LOCAL = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;';

describe('cleanup settings', () => {
  it('has safe defaults: container exports, no job marking, tag query on the container', () => {
    const config = loadCleanupConfig({ CLEANUP_STORAGE_CONNECTION_STRING: LOCAL });
    expect(config).toMatchObject({ storage: { kind: 'connectionString' }, container: 'exports', jobTable: undefined });
    expect(config.options).toMatchObject({ tagQueryScope: 'container', batchSize: 256, fallbackMaxBlobs: 100_000, maxLifetimeMs: 7 * 24 * 3600 * 1000 });
  });

  it('reads the app settings the infrastructure sets: managed identity, exports container, job table', () => {
    const config = loadCleanupConfig({
      EXPORTS_BLOB_SERVICE_URL: 'https://acct.blob.core.windows.net/',
      EXPORTS_CONTAINER: 'exports',
      EXPORT_MAX_TTL_MINUTES: '1440',
      JOBS_TABLE_URL: 'https://acct.table.core.windows.net/',
      JOBS_TABLE_NAME: 'exportjobs',
      CLEANUP_SCHEDULE: '0 0 0 * * *',
      CLEANUP_MANAGED_IDENTITY_CLIENT_ID: '6f1c3a52-1f36-4a3e-9d0e-3a2b1c0d9e8f',
      CLEANUP_TAG_QUERY_SCOPE: 'account',
    });
    expect(config).toMatchObject({
      storage: {
        kind: 'identity',
        blobEndpoint: 'https://acct.blob.core.windows.net/',
        tableEndpoint: 'https://acct.table.core.windows.net/',
        managedIdentityClientId: '6f1c3a52-1f36-4a3e-9d0e-3a2b1c0d9e8f',
      },
      container: 'exports',
      jobTable: 'exportjobs',
      options: { maxLifetimeMs: 24 * 3600 * 1000, tagQueryScope: 'account' },
    });
  });

  it('names each bad setting, what arrived and what was expected', () => {
    expect(() => loadCleanupConfig({ CLEANUP_STORAGE_CONNECTION_STRING: LOCAL, CLEANUP_BATCH_SIZE: '300', EXPORTS_CONTAINER: 'Exports' })).toThrow(
      /EXPORTS_CONTAINER="Exports": expected a container name.*\n.*CLEANUP_BATCH_SIZE="300": expected an integer from 1 to 256/,
    );
  });

  it('needs exactly one way to reach storage, and never echoes the connection string', () => {
    expect(() => loadCleanupConfig({})).toThrow(/CLEANUP_STORAGE_CONNECTION_STRING=unset: expected a connection string .* or EXPORTS_BLOB_SERVICE_URL/);
    const both = () => loadCleanupConfig({ CLEANUP_STORAGE_CONNECTION_STRING: LOCAL, EXPORTS_BLOB_SERVICE_URL: 'https://a.blob.core.windows.net' });
    expect(both).toThrow(/CLEANUP_STORAGE_CONNECTION_STRING=\(hidden\): expected either a connection string or EXPORTS_BLOB_SERVICE_URL/);
    expect(both).not.toThrow(/AccountKey/);
  });

  it('marks jobs only with a job table, and needs its URL under managed identity', () => {
    expect(loadCleanupConfig({ CLEANUP_STORAGE_CONNECTION_STRING: LOCAL, JOBS_TABLE_NAME: 'exportjobs' }).jobTable).toBe('exportjobs');
    expect(() => loadCleanupConfig({ EXPORTS_BLOB_SERVICE_URL: 'https://a.blob.core.windows.net', JOBS_TABLE_NAME: 'exportjobs' })).toThrow(
      /JOBS_TABLE_URL=unset: expected the Table service URL, since JOBS_TABLE_NAME is set/,
    );
    expect(() => loadCleanupConfig({ EXPORTS_BLOB_SERVICE_URL: 'https://a.blob.core.windows.net', JOBS_TABLE_URL: 'https://a.table.core.windows.net' })).toThrow(
      /JOBS_TABLE_NAME=unset: expected the job table name/,
    );
  });
});

describe('schedule', () => {
  it('defaults to every day at 00:00 UTC', () => {
    expect(loadSchedule({})).toBe('0 0 0 * * *');
    expect(loadSchedule({ CLEANUP_SCHEDULE: '  ' })).toBe('0 0 0 * * *');
  });

  it('accepts six-field NCRONTAB', () => {
    expect(parseSchedule('0 */15 * * * *')).toBe('0 */15 * * * *');
    expect(parseSchedule('0 30 2 * * Mon-Fri')).toBe('0 30 2 * * Mon-Fri');
  });

  it('refuses five-field cron and nonsense with the setting named', () => {
    expect(() => parseSchedule('0 0 * * *')).toThrow(/CLEANUP_SCHEDULE="0 0 \* \* \*" has 5 fields; expected six-field NCRONTAB/);
    expect(() => parseSchedule('0 0 25 * * *')).toThrow(/CLEANUP_SCHEDULE="0 0 25 \* \* \*" is not a valid NCRONTAB expression/);
  });
});

describe('summary line', () => {
  it('is one line of key=value pairs in a fixed order', () => {
    const summary = { ...emptySummary(), found: 10, deleted: 7, alreadyGone: 1, failed: 1, skipped: 1, retries: 3, durationMs: 1234.6 };
    expect(formatSummary(summary)).toBe(
      'cleanup summary: found=10 deleted=7 alreadyGone=1 failed=1 skipped=1 retries=3 fallbackListed=0 jobsExpired=0 jobsSkipped=0 jobsFailed=0 audited=0 errors=0 complete=true durationMs=1235',
    );
  });

  it('counts failed deletes, failed job updates and pass errors as failures, not an unfinished run', () => {
    expect(hasFailures(emptySummary())).toBe(false);
    expect(hasFailures({ ...emptySummary(), complete: false })).toBe(false);
    expect(hasFailures({ ...emptySummary(), failed: 1 })).toBe(true);
    expect(hasFailures({ ...emptySummary(), jobsFailed: 1 })).toBe(true);
    expect(hasFailures({ ...emptySummary(), errors: ['tag query stopped'] })).toBe(true);
  });
});

/**
 * `npm run cleanup`: one cleanup run, now, then the summary line on stdout. The same code the
 * daily timer runs. Operators use it for a manual sweep of any account:
 *
 *   npm run cleanup -- --connection-string "<cs>" --container exports
 *   npm run cleanup -- --blob-endpoint https://<account>.blob.core.windows.net   (az login)
 *
 * Without flags it reads the function's own settings from the environment, or, when those name
 * no account either, the running local stack's Azurite (.local/stack.json).
 * Exit code: 0 clean run, 1 the run left failures for the next one, 2 bad usage or settings.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DefaultAzureCredential } from '@azure/identity';
import { runCleanup } from '../cleanup-function/src/cleanup.js';
import { createCleanupRuntime } from '../cleanup-function/src/clients.js';
import { loadCleanupConfig } from '../cleanup-function/src/config.js';
import type { CleanupLog } from '../cleanup-function/src/log.js';
import { formatSummary, hasFailures } from '../cleanup-function/src/summary.js';

const USAGE = `Usage: npm run cleanup -- [options]

Deletes expired exports once and prints one summary line.

  --connection-string <cs>     the storage account, by connection string (Azurite, or keys enabled)
  --blob-endpoint <url>        the storage account, by Entra ID (az login, environment, managed identity)
  --table-endpoint <url>       the Table endpoint, with --blob-endpoint and --job-table
  --container <name>           the exports container (default: exports)
  --job-table <name>           also mark expired jobs in this Table job store table
  --audit-table <name>         also append each deletion to the connector's Table audit trail
  --tag-query-scope <scope>    container (default) or account
  --max-lifetime-minutes <n>   the connector's maximum export lifetime (default: 10080)
  --fallback-max-blobs <n>     blobs the untagged-blob listing may visit (default: 100000; 0 = off)
  --help                       this text

Without flags, the function's own settings are read from the environment
(CLEANUP_STORAGE_CONNECTION_STRING, EXPORTS_CONTAINER, ...; see cleanup-function/README.md);
when they name no account, the running local stack's Azurite is used.
`;

/** Flag → the function's setting it overrides, so both go through one validated schema. */
const SETTING_OF_FLAG = {
  'connection-string': 'CLEANUP_STORAGE_CONNECTION_STRING',
  'blob-endpoint': 'EXPORTS_BLOB_SERVICE_URL',
  'table-endpoint': 'JOBS_TABLE_URL',
  container: 'EXPORTS_CONTAINER',
  'job-table': 'JOBS_TABLE_NAME',
  'audit-table': 'AUDIT_TABLE_NAME',
  'tag-query-scope': 'CLEANUP_TAG_QUERY_SCOPE',
  'max-lifetime-minutes': 'EXPORT_MAX_TTL_MINUTES',
  'fallback-max-blobs': 'CLEANUP_FALLBACK_MAX_BLOBS',
} as const;

type Flag = keyof typeof SETTING_OF_FLAG;

const STRING: { type: 'string' } = { type: 'string' };
const OPTIONS = {
  'connection-string': STRING,
  'blob-endpoint': STRING,
  'table-endpoint': STRING,
  container: STRING,
  'job-table': STRING,
  'audit-table': STRING,
  'tag-query-scope': STRING,
  'max-lifetime-minutes': STRING,
  'fallback-max-blobs': STRING,
  help: { type: 'boolean' },
} as const satisfies Record<Flag | 'help', { type: 'string' | 'boolean' }>;

function settingsFrom(args: string[], env: NodeJS.ProcessEnv): Record<string, string | undefined> | 'help' {
  const { values } = parseArgs({ args, strict: true, options: OPTIONS });
  if (values.help) return 'help';
  const settings: Record<string, string | undefined> = { ...env };
  // A storage flag replaces whatever account the environment names.
  if (values['connection-string'] !== undefined || values['blob-endpoint'] !== undefined) {
    delete settings.CLEANUP_STORAGE_CONNECTION_STRING;
    delete settings.EXPORTS_BLOB_SERVICE_URL;
  }
  for (const [flag, setting] of Object.entries(SETTING_OF_FLAG) as Array<[Flag, string]>) {
    const value = values[flag];
    if (typeof value === 'string') settings[setting] = value;
  }
  return settings;
}

/**
 * With no account named by flags or environment, a running local stack (`npm start`) is the
 * account: it leaves its Azurite connection string in .local/stack.json.
 */
function withLocalStack(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.CLEANUP_STORAGE_CONNECTION_STRING || env.EXPORTS_BLOB_SERVICE_URL) return env;
  const file = path.resolve(fileURLToPath(new URL('..', import.meta.url)), env.LOCAL_STACK_DIR ?? '.local', 'stack.json');
  if (!existsSync(file)) return env;
  const stack = JSON.parse(readFileSync(file, 'utf8')) as { storageConnectionString: string; container: string };
  return { ...env, CLEANUP_STORAGE_CONNECTION_STRING: stack.storageConnectionString, EXPORTS_CONTAINER: env.EXPORTS_CONTAINER ?? stack.container };
}

async function main(): Promise<number> {
  let settings: ReturnType<typeof settingsFrom>;
  let config: ReturnType<typeof loadCleanupConfig>;
  try {
    settings = settingsFrom(process.argv.slice(2), withLocalStack(process.env));
    if (settings === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    config = loadCleanupConfig(settings);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  // Progress on stderr, the summary alone on stdout: `npm run cleanup -s | tee` keeps the result.
  const log: CleanupLog = {
    log: (...args) => process.stderr.write(`${args.join(' ')}\n`),
    warn: (...args) => process.stderr.write(`${args.join(' ')}\n`),
    error: (...args) => process.stderr.write(`${args.join(' ')}\n`),
  };
  const credential = config.storage.kind === 'identity' ? new DefaultAzureCredential() : undefined;
  const { deps, options } = createCleanupRuntime(config, credential);
  const summary = await runCleanup({ ...deps, log }, options);
  process.stdout.write(`${formatSummary(summary)}\n`);
  return hasFailures(summary) ? 1 : 0;
}

process.exitCode = await main();

/**
 * `npm start`: the whole system on loopback with embedded defaults — Azurite (blob + table), the
 * HiveServer2 stand-in, the EnOS identity stand-in, the connector and the cleanup schedule.
 * Waits until the connector's /readyz is green, prints where to click and the demo account,
 * and on Ctrl-C stops everything it started, newest first.
 *
 * Fixed points (see DESIGN.md): PORT sets the connector's port (default 8080), every other
 * service takes a free port, HIVE_SEED_ROWS sets the size of enos.measurement, and the ready line
 * is exactly `Connector ready at http://127.0.0.1:<port>`. LOCAL_STACK_DIR moves the data folder
 * (default .local/), which the end-to-end tests use to start from nothing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { createCleanupRuntime } from '../cleanup-function/src/clients.js';
import { loadCleanupConfig } from '../cleanup-function/src/config.js';
import { startCleanupSchedule } from '../cleanup-function/src/local-schedule.js';
import { buildWeb } from './build-web.js';
import { startAzurite } from './lib/azurite.js';
import { parseReadyLine, startChildService, tsxArgs, type ChildService } from './lib/child-service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where the stack keeps its data; tests point it at a scratch folder. */
const LOCAL = path.resolve(ROOT, process.env.LOCAL_STACK_DIR ?? '.local');
const EXPORTS_CONTAINER = 'exports';
/** Where a running stack says how to reach it (npm run cleanup reads it); removed on stop. */
const STACK_FILE = path.join(LOCAL, 'stack.json');

interface LocalSecrets {
  sessionSigningKey: string;
  urlSigningKey: string;
  fileEncryptionKey: string;
  hivePassword: string;
}

/** Per-machine development secrets, made once and kept under the git-ignored .local/. */
async function localSecrets(): Promise<LocalSecrets> {
  const file = path.join(LOCAL, 'secrets.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as LocalSecrets;
  const secrets: LocalSecrets = {
    sessionSigningKey: randomBytes(32).toString('base64'),
    urlSigningKey: randomBytes(32).toString('base64'),
    fileEncryptionKey: randomBytes(32).toString('base64'),
    hivePassword: randomBytes(18).toString('base64url'),
  };
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got '${raw}'`);
  return value;
}

interface HiveReady {
  listeners: { transport: string; auth: string; host: string; port: number }[];
  adminUrl?: string;
}

async function main(): Promise<void> {
  const connectorPort = positiveInt('PORT', 8080);
  const seedRows = positiveInt('HIVE_SEED_ROWS', 100_000);
  const storageMethod = process.env.STORAGE_METHOD === 'local' ? 'local' : 'blob';
  await mkdir(LOCAL, { recursive: true });
  const secrets = await localSecrets();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started: { name: string; stop: () => Promise<void> }[] = [];

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('Stopping...');
    for (const service of started.reverse()) {
      await service.stop().catch((error: unknown) => log(`could not stop ${service.name}: ${String(error)}`));
    }
    log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    log('Building the web page...');
    await buildWeb();
    log('Starting Azurite (blob + table)...');
    const azurite = await startAzurite({ location: path.join(LOCAL, 'azurite') });
    started.push({ name: 'azurite', stop: azurite.stop });
    const containerClient = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(EXPORTS_CONTAINER);
    await containerClient.createIfNotExists();

    log(`Starting the HiveServer2 stand-in (${seedRows.toLocaleString('en')} measurement rows)...`);
    const hive: ChildService<HiveReady> = await startChildService({
      name: 'hive',
      command: process.execPath,
      args: tsxArgs(
        path.join(ROOT, 'scripts/hive-stand-in/main.ts'),
        '--port', '0',
        '--auth', 'PLAIN',
        '--seed-rows', String(seedRows),
        '--db-file', path.join(LOCAL, `hive-${seedRows}.duckdb`),
        '--admin-port', '0',
      ),
      // The password goes through the environment, not the command line that `ps` shows.
      env: { ...process.env, HIVE_STAND_IN_USERS: `connector:${secrets.hivePassword}` },
      readyWhen: (line) => parseReadyLine<HiveReady>(line),
      timeoutMs: 600_000,
    });
    started.push(hive);
    const hiveListener = hive.ready.listeners[0]!;

    log('Starting the EnOS identity stand-in...');
    // The stand-in's seed registers a demo application; the connector signs its app token with it.
    const seed = JSON.parse(await readFile(path.join(ROOT, 'scripts/enos-stand-in/seed.json'), 'utf8')) as { apps: { appKey: string; appSecret: string }[] };
    const demoApp = seed.apps[0]!;
    const enos = await startChildService({
      name: 'enos',
      command: process.execPath,
      args: tsxArgs(path.join(ROOT, 'scripts/enos-stand-in/main.ts'), '--port', '0'),
      readyWhen: (line) => parseReadyLine<{ url: string }>(line),
    });
    started.push(enos);

    log('Starting the connector...');
    const connectorEnv: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(connectorPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      INSTANCE_ID: 'local-1',
      HIVE_HOST: hiveListener.host,
      HIVE_PORT: String(hiveListener.port),
      HIVE_TRANSPORT: 'binary',
      HIVE_AUTH: 'PLAIN',
      HIVE_USERNAME: 'connector',
      HIVE_PASSWORD: secrets.hivePassword,
      HIVE_POLL_INTERVAL_MS: '200',
      ENOS_BASE_URL: enos.ready.url,
      ENOS_APP_KEY: demoApp.appKey,
      ENOS_APP_SECRET: demoApp.appSecret,
      SESSION_SIGNING_KEY: secrets.sessionSigningKey,
      ORG_ACCESS: JSON.stringify({ 'demo-org': { databases: ['enos'] }, 'other-org': { databases: ['enos_other'] } }),
      STORAGE_METHOD: storageMethod,
      BLOB_CONNECTION_STRING: azurite.connectionString,
      BLOB_CONTAINER: EXPORTS_CONTAINER,
      LOCAL_EXPORT_DIR: path.join(LOCAL, 'exports'),
      FILE_ENCRYPTION_KEY: secrets.fileEncryptionKey,
      URL_SIGNING_KEY: secrets.urlSigningKey,
      JOB_STORE: 'sqlite',
      SQLITE_FILE: path.join(LOCAL, 'jobs.sqlite'),
      // No PUBLIC_BASE_URL: on loopback the connector names the address it bound (PORT=0 included).
      AUDITORS: process.env.AUDITORS ?? JSON.stringify({ 'demo-org': ['auditor'] }),
    };
    const connector = await startChildService({
      name: 'connector',
      command: process.execPath,
      args: tsxArgs(path.join(ROOT, 'app/src/main.ts')),
      env: connectorEnv,
      forwardTo: process.stderr,
      readyWhen: (line) => parseReadyLine<{ url: string }>(line),
    });
    started.push(connector);

    // The same cleanup the Function App runs daily, on the same NCRONTAB schedule, against Azurite.
    const cleanupSchedule = process.env.CLEANUP_SCHEDULE ?? '0 0 0 * * *';
    const cleanup = startCleanupSchedule({
      runtime: createCleanupRuntime(
        loadCleanupConfig({ CLEANUP_STORAGE_CONNECTION_STRING: azurite.connectionString, EXPORTS_CONTAINER, CLEANUP_SCHEDULE: cleanupSchedule }),
      ),
      schedule: cleanupSchedule,
      log: { log: (...args) => log(`[cleanup] ${args.join(' ')}`), warn: (...args) => log(`[cleanup] ${args.join(' ')}`), error: (...args) => log(`[cleanup] ${args.join(' ')}`) },
    });
    started.push({ name: 'cleanup schedule', stop: async () => cleanup.stop() });
    await writeFile(STACK_FILE, JSON.stringify({ connectorUrl: connector.ready.url, storageConnectionString: azurite.connectionString, container: EXPORTS_CONTAINER, hiveAdminUrl: hive.ready.adminUrl }, null, 2));
    started.push({ name: 'stack file', stop: () => rm(STACK_FILE, { force: true }) });

    const readyUrl = `${connector.ready.url}/readyz`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await fetch(readyUrl).catch(() => undefined);
      if (response?.ok) break;
      if (Date.now() > deadline) throw new Error(`the connector did not become ready: ${response ? await response.text() : 'no answer'}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    log('');
    log(`Connector ready at ${connector.ready.url}`);
    log(`  Sign in as demo / demo-password (organization demo-org, may read database enos)`);
    log(`  or other / other-password (organization other-org, may read database enos_other)`);
    log(`  or auditor / auditor-password (reads demo-org's audit trail)`);
    log(`  Storage: ${storageMethod}; data under ${path.relative(ROOT, LOCAL) || LOCAL}/. API docs: ${connector.ready.url}/docs`);
    log(`  Hive stand-in fault hooks (for trying failures): ${hive.ready.adminUrl ?? 'off'}`);
    log(`  Cleanup of expired exports: ${cleanupSchedule} (UTC; next ${cleanup.nextRun()?.toISOString() ?? 'never'}); run it now with npm run cleanup`);
    log('  Press Ctrl-C to stop everything.');
  } catch (error) {
    log(`Local stack failed to start: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
  }
}

await main();

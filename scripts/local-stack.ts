/**
 * `npm start`: the whole system on loopback with embedded defaults — Azurite (blob + table), the
 * HiveServer2 stand-in, the EnOS identity stand-in, the connector and the cleanup schedule.
 * Waits until the connector's /readyz is green, prints where to click and the demo account,
 * and on Ctrl-C stops everything it started, newest first: the connector before the stand-ins,
 * so an export still running ends `interrupted` rather than failing on a Hive that went first.
 * The children run in process groups of their own for that: the terminal's SIGINT reaches only
 * this process. Should a child die on its own (a crash, a `kill -9`), the stack says which and
 * stops.
 *
 * Fixed points (see DESIGN.md): PORT sets the connector's port (default 8080), every other
 * service takes a free port — the one it had last time when that is free, recorded in
 * <data folder>/ports.json, so a download URL copied before a restart still works after it —
 * HIVE_SEED_ROWS sets the size of enos.measurement, and the ready line is exactly
 * `Connector ready at http://127.0.0.1:<port>`. LOCAL_STACK_DIR moves the data folder (default
 * .local/), which the end-to-end tests use to start from nothing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { createCleanupRuntime } from '../cleanup-function/src/clients.js';
import { loadCleanupConfig } from '../cleanup-function/src/config.js';
import { withDeadline } from '../app/src/deadline.js';
import { startCleanupSchedule } from '../cleanup-function/src/local-schedule.js';
import { buildWeb } from './build-web.js';
import { startAzurite } from './lib/azurite.js';
import { parseReadyLine, startChildService, tsxArgs, type ChildExit, type ChildService } from './lib/child-service.js';
import { openPortBook } from './lib/local-ports.js';
import { HIVE_VERSIONS, type HiveVersion } from './hive-stand-in/service/cluster.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where the stack keeps its data; tests point it at a scratch folder. */
const LOCAL = path.resolve(ROOT, process.env.LOCAL_STACK_DIR ?? '.local');
const EXPORTS_CONTAINER = 'exports';
/** Where a running stack says how to reach it (npm run cleanup reads it); removed on stop. */
const STACK_FILE = path.join(LOCAL, 'stack.json');
/** The ports the services had last time, offered to them again. */
const PORTS_FILE = path.join(LOCAL, 'ports.json');
/** The connector's own shutdown gives up after 20 s (app/src/main.ts); wait that long before SIGKILL. */
const CONNECTOR_STOP_GRACE_MS = 25_000;

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

/** The account the connector signs in to the Hive stand-in with (listed in stack.json). */
const HIVE_SERVICE_ACCOUNT = 'connector';

/** HIVE_VERSION: which HiveServer2 the stand-in behaves as (scripts/hive-stand-in/README.md); 3.1 by default. */
function hiveVersionSetting(): HiveVersion {
  const raw = process.env.HIVE_VERSION ?? '3.1';
  if (!(HIVE_VERSIONS as readonly string[]).includes(raw)) throw new Error(`HIVE_VERSION must be one of ${HIVE_VERSIONS.join(', ')}, got '${raw}'`);
  return raw as HiveVersion;
}

interface HiveReady {
  listeners: { transport: string; auth: string; tls: boolean; host: string; port: number; path?: string }[];
  adminUrl?: string;
}

async function main(): Promise<void> {
  const connectorPort = positiveInt('PORT', 8080);
  const seedRows = positiveInt('HIVE_SEED_ROWS', 100_000);
  const hiveVersion = hiveVersionSetting();
  const storageMethod = process.env.STORAGE_METHOD === 'local' ? 'local' : 'blob';
  await mkdir(LOCAL, { recursive: true });
  const secrets = await localSecrets();
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started: { name: string; stop: () => Promise<void> }[] = [];
  const ports = await openPortBook(PORTS_FILE);

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('Stopping...');
    for (const service of started.reverse()) {
      await service.stop().then(
        () => log(`  ${service.name} stopped`),
        (error: unknown) => log(`  could not stop ${service.name}: ${String(error)}`),
      );
    }
    log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  /** A child that exits while the stack runs leaves it half working: say which, and stop the rest. */
  const watch = (name: string, pid: number | undefined, exited: Promise<ChildExit>) => {
    void exited.then(({ code, signal }) => {
      if (stopping) return;
      log(`The ${name} (pid ${pid}) exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}); stopping the stack.`);
      void stopAll(1);
    });
  };

  /**
   * Starts a service on the ports it had last time (those still free). Should one be taken
   * between that check and the start, once more on free ports.
   */
  const onRecordedPorts = async <T>(names: string[], start: (offered: Record<string, number>) => Promise<T>): Promise<T> => {
    const offered = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await ports.offer(name)] as const)));
    try {
      return await start(offered);
    } catch (error) {
      if (!String(error).includes('EADDRINUSE') || Object.values(offered).every((port) => port === 0)) throw error;
      log(`  a recorded port of ${names.join(', ')} was taken meanwhile; taking free ones`);
      return start(Object.fromEntries(names.map((name) => [name, 0])));
    }
  };

  try {
    log('Building the web page...');
    await buildWeb();
    log('Starting Azurite (blob + table)...');
    const azurite = await onRecordedPorts(['azurite-blob', 'azurite-queue', 'azurite-table'], (offered) =>
      startAzurite({
        location: path.join(LOCAL, 'azurite'),
        ports: { blob: offered['azurite-blob'], queue: offered['azurite-queue'], table: offered['azurite-table'] },
        ownProcessGroup: true,
      }),
    );
    started.push({ name: 'azurite', stop: azurite.stop });
    watch('azurite', azurite.pid, azurite.exited);
    ports.record('azurite-blob', azurite.ports.blob);
    ports.record('azurite-queue', azurite.ports.queue);
    ports.record('azurite-table', azurite.ports.table);
    const containerClient = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(EXPORTS_CONTAINER);
    await containerClient.createIfNotExists();

    log(`Starting the HiveServer2 stand-in (${seedRows.toLocaleString('en')} measurement rows)...`);
    const hive: ChildService<HiveReady> = await onRecordedPorts(['hive', 'hive-admin'], (offered) =>
      startChildService({
        name: 'hive',
        command: process.execPath,
        args: tsxArgs(
          path.join(ROOT, 'scripts/hive-stand-in/main.ts'),
          '--port', String(offered.hive),
          '--auth', 'PLAIN',
          '--seed-rows', String(seedRows),
          '--db-file', path.join(LOCAL, `hive-${seedRows}.duckdb`),
          '--admin-port', String(offered['hive-admin']),
          '--hive-version', hiveVersion,
        ),
        // The password goes through the environment, not the command line that `ps` shows.
        env: { ...process.env, HIVE_STAND_IN_USERS: `${HIVE_SERVICE_ACCOUNT}:${secrets.hivePassword}` },
        readyWhen: (line) => parseReadyLine<HiveReady>(line),
        timeoutMs: 600_000,
        ownProcessGroup: true,
      }),
    );
    started.push(hive);
    watch('HiveServer2 stand-in', hive.child.pid, hive.exited);
    const hiveListener = hive.ready.listeners[0]!;
    ports.record('hive', hiveListener.port);
    if (hive.ready.adminUrl) ports.record('hive-admin', Number(new URL(hive.ready.adminUrl).port));

    log('Starting the EnOS identity stand-in...');
    // The stand-in's seed registers a demo application; the connector signs its app token with it.
    const seed = JSON.parse(await readFile(path.join(ROOT, 'scripts/enos-stand-in/seed.json'), 'utf8')) as { apps: { appKey: string; appSecret: string }[] };
    const demoApp = seed.apps[0]!;
    const enos = await onRecordedPorts(['enos'], (offered) =>
      startChildService({
        name: 'enos',
        command: process.execPath,
        args: tsxArgs(path.join(ROOT, 'scripts/enos-stand-in/main.ts'), '--port', String(offered.enos)),
        readyWhen: (line) => parseReadyLine<{ url: string }>(line),
        ownProcessGroup: true,
      }),
    );
    started.push(enos);
    watch('EnOS stand-in', enos.child.pid, enos.exited);
    ports.record('enos', Number(new URL(enos.ready.url).port));
    await ports.save();

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
      HIVE_USERNAME: HIVE_SERVICE_ACCOUNT,
      HIVE_SERVER_VERSION: hiveVersion,
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
      ownProcessGroup: true,
    });
    started.push({ name: 'connector', stop: () => connector.stop(CONNECTOR_STOP_GRACE_MS) });
    watch('connector', connector.child.pid, connector.exited);

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
    const pids = { azurite: azurite.pid, hive: hive.child.pid, enos: enos.child.pid, connector: connector.child.pid };
    await writeFile(
      STACK_FILE,
      JSON.stringify(
        {
          connectorUrl: connector.ready.url,
          storageConnectionString: azurite.connectionString,
          container: EXPORTS_CONTAINER,
          // For other Hive clients (beeline, pyhive, hive-driver): the stand-in's endpoints and the
          // account the connector uses; its password is `hivePassword` in the secrets file.
          hive: {
            version: hiveVersion,
            endpoints: hive.ready.listeners,
            serviceAccount: HIVE_SERVICE_ACCOUNT,
            passwordIn: `${path.relative(ROOT, path.join(LOCAL, 'secrets.json')) || path.join(LOCAL, 'secrets.json')} (hivePassword)`,
            adminUrl: hive.ready.adminUrl,
          },
          hiveAdminUrl: hive.ready.adminUrl,
          pids,
        },
        null,
        2,
      ),
    );
    started.push({ name: 'stack file', stop: () => rm(STACK_FILE, { force: true }) });

    const readyUrl = `${connector.ready.url}/readyz`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      // Each probe has its own deadline: a connector that accepts and never answers must not hold the start.
      const probe = await withDeadline(10_000, async (signal) => {
        const response = await fetch(readyUrl, { signal });
        return { ok: response.ok, text: await response.text() };
      }).catch(() => undefined);
      if (probe?.ok) break;
      if (Date.now() > deadline) throw new Error(`the connector did not become ready: ${probe ? probe.text : 'no answer'}`);
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

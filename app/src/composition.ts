/**
 * The composition root: builds every adapter the configuration asks for and wires them into the
 * use cases and the HTTP app. Tests call `buildConnector` with a config (and, for fault tests,
 * replacement adapters) and run the real server on port 0.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { TableClient } from '@azure/data-tables';
import type { Router } from 'express';
import { pino } from 'pino';
import type { AuditStore } from './audit/audit-store.js';
import { AuditTrail } from './audit/audit-trail.js';
import { auditLocalDownloads } from './audit/download-events.js';
import { auditJobOutcomes } from './audit/job-outcomes.js';
import { createSqliteAuditStore } from './audit/sqlite-audit-store.js';
import { createTableAuditStore } from './audit/table-audit-store.js';
import { createSqliteAccessTokenStore, createTableAccessTokenStore, type AccessTokenStore } from './auth/access-token-store.js';
import { AccessTokens } from './auth/access-tokens.js';
import { createAccountStatusChecker } from './auth/account-status.js';
import { createAuthenticator } from './auth/authenticator.js';
import { createEnosIdentityProvider, type AccountDirectory, type IdentityProvider } from './auth/enos-identity.js';
import { createLoginThrottle } from './auth/login-throttle.js';
import { createSqliteRevocationList, createTableRevocationList, REVOCATIONS_TABLE } from './auth/revocation-stores.js';
import { createSessionTokens, type RevocationList, type SessionUser } from './auth/session-tokens.js';
import type { Config } from './config/config.js';
import { AppError } from './errors.js';
import { ExportService } from './exports/export-service.js';
import { createEncodePool } from './exports/encode-pool.js';
import { JobScheduler, type StallLimits } from './exports/job-scheduler.js';
import { createCatalog, createColumnCatalog, createHiveColumnLister, createHiveTableLister } from './hive/catalog.js';
import { checkHiveReady } from './hive/hive-connection.js';
import { createQueryRunner, type QueryRunner } from './hive/query-runner.js';
import { accessProblem, guardSql, supportedHiveVersion } from './sql-guard/guard.js';
import { createApp } from './http/app.js';
import { auditRouter } from './http/audit-router.js';
import { catalogRouter } from './http/catalog-router.js';
import { exportsRouter } from './http/exports-router.js';
import { openApiRouter } from './http/openapi.js';
import { previewsRouter } from './http/previews-router.js';
import { schedulesRouter } from './http/schedules-router.js';
import { startServer, type RunningServer } from './http/server.js';
import { sessionsRouter } from './http/sessions-router.js';
import { stableLinkRouter } from './http/stable-link-router.js';
import { tokensRouter } from './http/tokens-router.js';
import { clientRouter } from './http/client-router.js';
import { webRouter } from './http/web-router.js';
import type { JobStore } from './jobs/job-store.js';
import { observeJobStore, type JobTransitionListener } from './jobs/observed-job-store.js';
import { createSqliteJobStore } from './jobs/sqlite-job-store.js';
import { createTableJobStore } from './jobs/table-job-store.js';
import { createLogger, type Logger } from './logger.js';
import { isLoopbackUrl } from './loopback.js';
import { PreviewService } from './previews/preview-service.js';
import { ScheduleRunner } from './schedules/schedule-runner.js';
import { ScheduleService } from './schedules/schedule-service.js';
import type { ScheduleStore } from './schedules/schedule-store.js';
import { createSqliteScheduleStore } from './schedules/sqlite-schedule-store.js';
import { createTableScheduleStore } from './schedules/table-schedule-store.js';
import { createBlobExportStore } from './storage/blob-export-store.js';
import { createDownloadRouter } from './storage/download-router.js';
import type { ExportStore } from './storage/export-store.js';
import { createLocalExportStore } from './storage/local-export-store.js';
import { startAzureMonitor, type TelemetryHandle } from './telemetry/azure-monitor.js';
import { exportOutcomeTelemetry, tracedExportStore, tracedQueryRunner } from './telemetry/export-telemetry.js';
import { ConnectorMetrics, inSpanSync } from './telemetry/instruments.js';
import { openTelemetryLogStream } from './telemetry/log-bridge.js';

export const VERSION = '0.1.0';
/** More than any instance queues; the queue-depth gauge counts up to here. */
const QUEUED_GAUGE_LIMIT = 10_000;
/** How often each instance purges audit events past their retention (idempotent, so every instance may). */
const AUDIT_RETENTION_INTERVAL_MS = 6 * 3600_000;

/** Adapters a test may replace (e.g. a runner that fails mid-fetch). */
export interface ConnectorOverrides {
  logger?: Logger;
  identity?: IdentityProvider;
  /** Where account states come from. @default the EnOS identity adapter's List Users */
  accounts?: AccountDirectory;
  jobs?: JobStore;
  store?: ExportStore;
  runner?: QueryRunner;
  clock?: () => Date;
  /** Azure credential for managed-identity access. @default DefaultAzureCredential */
  azureCredential?: TokenCredential;
}

export interface Connector {
  config: Config;
  logger: Logger;
  jobs: JobStore;
  store: ExportStore;
  scheduler: JobScheduler;
  audit: AuditTrail;
  schedules: { service: ScheduleService; runner: ScheduleRunner; store: ScheduleStore };
  /** Recovers interrupted jobs, starts the scheduler and listens. */
  start(): Promise<RunningServer>;
  /** Stops listening, stops running jobs (recorded as interrupted), closes stores. */
  stop(): Promise<void>;
}

const isAccountDirectory = (value: object): value is AccountDirectory => typeof (value as Partial<AccountDirectory>).organizationAccounts === 'function';

function tableClient(config: { connectionString?: string; accountUrl?: string }, table: string, credential: () => TokenCredential): TableClient {
  if (config.connectionString) {
    // Plain HTTP only for an emulator on this machine (Azurite); the SDK refuses it otherwise.
    const endpoint = /TableEndpoint=([^;]+)/i.exec(config.connectionString)?.[1] ?? '';
    return TableClient.fromConnectionString(config.connectionString, table, { allowInsecureConnection: isLoopbackUrl(endpoint) });
  }
  return new TableClient(config.accountUrl!, table, credential());
}

/** Room above the deadlines for the job store's own calls and for the heartbeat to come round. */
const STALL_MARGIN_MS = 2 * 60_000;

/**
 * The watchdog's limits: longer than the longest wait the deadlines allow between two signs of
 * progress, so that only a hang no deadline covers trips it. Before rows flow: the query's time
 * limit plus the Hive calls around it (connect, open session, the last status poll, the cancel).
 * Then: one Hive fetch and one storage call.
 */
export function stallLimitsOf(config: Config): StallLimits {
  return {
    starting: config.hive.queryTimeoutMs + 4 * config.hive.callTimeoutMs + STALL_MARGIN_MS,
    streaming: config.hive.callTimeoutMs + config.storage.timeoutMs + STALL_MARGIN_MS,
  };
}

export function buildConnector(config: Config, overrides: ConnectorOverrides = {}): Connector {
  // With telemetry on, log lines also go to Application Insights (through the OpenTelemetry logs API).
  const logger =
    overrides.logger ??
    createLogger(config.logLevel, config.telemetry ? pino.multistream([{ stream: pino.destination(1) }, { stream: openTelemetryLogStream() }]) : undefined);
  const metrics = new ConnectorMetrics();
  const clock = overrides.clock ?? (() => new Date());
  let credential: TokenCredential | undefined = overrides.azureCredential;
  // A user-assigned identity (the scale set's) is named by its client id; system-assigned needs none.
  const azureCredential = () =>
    (credential ??= new DefaultAzureCredential(config.azureClientId ? { managedIdentityClientId: config.azureClientId } : {}));

  // Jobs, revoked sessions, the audit trail, access tokens and schedules live in one place: one
  // SQLite file, or one storage account's tables.
  let storedJobs: JobStore;
  let revocations: RevocationList;
  let auditStore: AuditStore;
  let accessTokenStore: AccessTokenStore;
  let scheduleStore: ScheduleStore;
  let closeRevocations = () => {};
  const storeConfig = config.jobs.store;
  if (storeConfig.kind === 'sqlite') {
    if (storeConfig.file !== ':memory:') mkdirSync(path.dirname(storeConfig.file), { recursive: true });
    storedJobs = overrides.jobs ?? createSqliteJobStore({ file: storeConfig.file });
    const sqliteRevocations = createSqliteRevocationList(storeConfig.file, clock);
    revocations = sqliteRevocations;
    closeRevocations = () => sqliteRevocations.close();
    auditStore = createSqliteAuditStore({ file: storeConfig.file });
    accessTokenStore = createSqliteAccessTokenStore({ file: storeConfig.file });
    scheduleStore = createSqliteScheduleStore({ file: storeConfig.file });
  } else {
    storedJobs = overrides.jobs ?? createTableJobStore({ client: tableClient(storeConfig, storeConfig.tableName, azureCredential), tableName: storeConfig.tableName });
    revocations = createTableRevocationList(tableClient(storeConfig, REVOCATIONS_TABLE, azureCredential), clock);
    auditStore = createTableAuditStore({ client: tableClient(storeConfig, config.audit.tableName, azureCredential) });
    accessTokenStore = createTableAccessTokenStore({ client: tableClient(storeConfig, config.accessTokens.tableName, azureCredential) });
    scheduleStore = createTableScheduleStore({ client: tableClient(storeConfig, config.schedules.tableName, azureCredential) });
  }
  const audit = new AuditTrail({ store: auditStore, logger, clock, retentionDays: config.audit.retentionDays });
  // Every job outcome, whoever reaches it (scheduler, sweeper, another instance's cancel), is
  // recorded; the schedule runner (made below) joins the listeners to prune refreshed results.
  const jobListeners: JobTransitionListener[] = [auditJobOutcomes(audit), exportOutcomeTelemetry(metrics)];
  const jobs = observeJobStore(storedJobs, jobListeners);

  // Absolute URLs (downloads, stable links) name the configured public URL, or else the address
  // the server really bound: with PORT=0 only the listening socket knows the port.
  let boundUrl: string | undefined;
  const publicBaseUrl = () => config.http.publicBaseUrl ?? boundUrl ?? `http://${config.http.host}:${config.http.port}`;

  const routers: Router[] = [];
  let store: ExportStore;
  let onSweep: ((now: Date) => Promise<void>) | undefined;
  let onInterrupted: ((jobIds: string[]) => Promise<void>) | undefined;
  if (config.storage.method === 'blob') {
    const blob = config.storage.blob;
    store = tracedExportStore(
      overrides.store ??
      createBlobExportStore({
        container: blob.container,
        credential:
          blob.kind === 'connectionString'
            ? { kind: 'connectionString', connectionString: blob.connectionString }
            : { kind: 'tokenCredential', accountUrl: blob.accountUrl, credential: azureCredential() },
        ...(blob.sasVersion ? { sasVersion: blob.sasVersion } : {}),
        operationTimeoutMs: config.storage.timeoutMs,
        clock,
      }),
    );
  } else {
    const local = createLocalExportStore({
      dir: config.storage.dir,
      encryptionKey: config.storage.encryptionKey,
      urlSigningKey: config.storage.urlSigningKey,
      publicBaseUrl,
      minFreeBytes: config.storage.minFreeBytes,
      operationTimeoutMs: config.storage.timeoutMs,
      clock,
    });
    store = tracedExportStore(overrides.store ?? local);
    routers.push(createDownloadRouter(local, { onServe: auditLocalDownloads({ audit, jobs, clock }) }));
    onSweep = async (now) => {
      await local.sweepExpired(now);
    };
    onInterrupted = async (jobIds) => {
      const removed = await local.discardPartials(jobIds);
      if (removed > 0) logger.info({ removed }, 'removed the temp files of interrupted exports');
    };
  }

  const identity =
    overrides.identity ??
    createEnosIdentityProvider({
      baseUrl: config.enos.baseUrl,
      ...(config.enos.appKey && config.enos.appSecret ? { appKey: config.enos.appKey, appSecret: config.enos.appSecret } : {}),
      timeoutMs: config.enos.timeoutMs,
      maxRetries: config.enos.maxRetries,
      clock,
      logger,
    });
  const sessionTokens = createSessionTokens({ signingKey: config.auth.sessionSigningKey, ttlMinutes: config.auth.sessionTtlMinutes, revocations, clock });
  // Whether an account still exists and is enabled: EnOS's List Users, unless a test brings its own.
  const directory: AccountDirectory =
    overrides.accounts ??
    (isAccountDirectory(identity)
      ? identity
      : { organizationAccounts: () => Promise.reject(new AppError('identity_unavailable', 503, 'No EnOS account directory is configured')) });
  const accounts = createAccountStatusChecker({ directory, intervalMs: config.accountCheck.intervalMs, graceMs: config.accountCheck.graceMs, clock, logger });
  const accessTokens = new AccessTokens({
    store: accessTokenStore,
    accounts,
    audit,
    maxDays: config.accessTokens.maxDays,
    maxPerUser: config.accessTokens.maxPerUser,
    ratePerMinute: config.accessTokens.ratePerMinute,
    logger,
    clock,
  });
  // Every route accepts either credential; what each may do is the route's decision.
  const tokens = createAuthenticator(sessionTokens, accessTokens);
  const throttle = createLoginThrottle(config.auth.loginRateLimit);
  const runner = tracedQueryRunner(overrides.runner ?? createQueryRunner(config.hive, logger), metrics);

  const accessOf = (user: SessionUser) => {
    // Own keys only: an organization id such as "constructor" must not find Object.prototype's.
    const access = Object.hasOwn(config.auth.orgAccess, user.organizationId) ? config.auth.orgAccess[user.organizationId] : undefined;
    if (!access) throw new AppError('table_forbidden', 403, 'Your organization has no Hive databases it may export from');
    return access;
  };
  // With the cluster's version configured, function calls are checked against its built-ins.
  const hiveVersion = supportedHiveVersion(config.hive.serverVersion);
  const guardOptions = {
    ...(config.hive.defaultDatabase ? { defaultDatabase: config.hive.defaultDatabase } : {}),
    ...(hiveVersion ? { hiveVersion } : {}),
  };
  const guard = (sql: string, user: SessionUser) =>
    inSpanSync('sql.guard', { 'enos.organization': user.organizationId }, (span) => {
      try {
        const guarded = guardSql(sql, accessOf(user), guardOptions);
        span.setAttribute('sql.tables', guarded.tables.join(','));
        return guarded;
      } catch (error) {
        metrics.guardRefused(error instanceof AppError ? error.code : 'internal');
        throw error;
      }
    });

  const encoders = createEncodePool({ workers: config.exports.workers, nice: config.exports.workerNice, idleMs: 60_000, logger });
  const scheduler = new JobScheduler({
    jobs,
    store,
    runner,
    encoders,
    limits: { maxRows: config.exports.maxRows, maxBytes: config.exports.maxBytes, partMaxBytes: config.exports.partMaxBytes },
    instanceId: config.instanceId,
    maxConcurrent: config.jobs.maxConcurrent,
    sweepIntervalMs: config.jobs.sweepIntervalMs,
    stallLimits: stallLimitsOf(config),
    logger,
    clock,
    ...(onSweep ? { onSweep } : {}),
    ...(onInterrupted ? { onInterrupted } : {}),
  });
  const service = new ExportService({
    jobs,
    store,
    scheduler,
    guard,
    policy: {
      defaultTtlMinutes: config.exports.defaultTtlMinutes,
      maxTtlMinutes: config.exports.maxTtlMinutes,
      maxPerUser: config.jobs.maxPerUser,
      maxActivePerInstance: config.jobs.maxConcurrent + config.jobs.maxQueued,
    },
    instanceId: config.instanceId,
    logger,
    clock,
    audit,
  });
  const scheduleRunner = new ScheduleRunner({
    store: scheduleStore,
    jobs,
    exportStore: store,
    guard,
    accounts,
    audit,
    kick: () => scheduler.kick(),
    instanceId: config.instanceId,
    resultTtlMinutes: config.exports.maxTtlMinutes,
    tickMs: config.schedules.tickMs,
    logger,
    clock,
  });
  jobListeners.push((transition) => scheduleRunner.onJobTransition(transition));
  const schedules = new ScheduleService({
    store: scheduleStore,
    jobs,
    exportStore: store,
    guard,
    accounts,
    audit,
    policy: {
      minIntervalSeconds: config.schedules.minIntervalSeconds,
      resultTtlMinutes: config.exports.maxTtlMinutes,
      maxPerUser: config.schedules.maxPerUser,
      maxKeep: config.schedules.maxKeep,
      linkMaxDays: config.schedules.linkMaxDays,
      redirectMinutes: config.schedules.redirectMinutes,
    },
    kick: () => scheduleRunner.kick(),
    clock,
  });
  const previews = new PreviewService({ runner, guard, policy: config.previews, logger, audit });
  const catalog = createCatalog(createHiveTableLister(config.hive));
  const columns = createColumnCatalog(createHiveColumnLister(config.hive));

  const app = createApp(config, {
    logger,
    readiness: {
      hive: () => checkHiveReady(config.hive).then(() => undefined),
      storage: () => store.checkReady(),
      jobStore: () => jobs.checkReady(),
      identity: () => identity.checkReady(),
    },
    routers: [
      openApiRouter({
        maxTtlMinutes: config.exports.maxTtlMinutes,
        version: VERSION,
        limits: { tokenMaxDays: config.accessTokens.maxDays, maxKeep: config.schedules.maxKeep, linkMaxDays: config.schedules.linkMaxDays },
      }),
      sessionsRouter({ identity, tokens, throttle, audit }),
      auditRouter({ tokens, audit, auditors: config.audit.auditors }),
      tokensRouter({ tokens, accessTokens, maxDays: config.accessTokens.maxDays, clock }),
      schedulesRouter({ service: schedules, tokens, limits: { maxKeep: config.schedules.maxKeep, linkMaxDays: config.schedules.linkMaxDays }, publicBaseUrl, clock }),
      stableLinkRouter({ service: schedules }),
      catalogRouter({
        tokens,
        catalog: (user) => catalog(accessOf(user)),
        mayRead: (user, database, table) => accessProblem(accessOf(user), database, table) === undefined,
        columns,
        exportsConfig: config.exports,
      }),
      exportsRouter({ service, tokens, maxTtlMinutes: config.exports.maxTtlMinutes }),
      previewsRouter({ service: previews, tokens }),
      ...routers,
      clientRouter(),
      webRouter(),
    ],
  });

  let server: RunningServer | undefined;
  let telemetry: TelemetryHandle | undefined;
  return {
    config,
    logger,
    jobs,
    store,
    scheduler,
    audit,
    schedules: { service: schedules, runner: scheduleRunner, store: scheduleStore },
    async start() {
      if (config.telemetry) {
        telemetry = await startAzureMonitor(config.telemetry, {
          serviceName: 'enos-aml-connector',
          serviceVersion: VERSION,
          instanceId: config.instanceId,
          credential: azureCredential,
        });
      }
      metrics.bind(async () => (await jobs.listQueued(config.instanceId, QUEUED_GAUGE_LIMIT)).length);
      await scheduler.start();
      audit.startRetention(AUDIT_RETENTION_INTERVAL_MS);
      scheduleRunner.start();
      server = await startServer(app, config.http);
      boundUrl = server.url;
      return server;
    },
    async stop() {
      await server?.stop();
      await scheduleRunner.stop();
      await scheduler.stop();
      await encoders.close();
      audit.stop();
      // Before the stores close: the final export reads the queue-depth gauge from the job store.
      await telemetry?.shutdown();
      await jobs.close();
      await auditStore.close();
      await accessTokenStore.close();
      await scheduleStore.close();
      closeRevocations();
    },
  };
}

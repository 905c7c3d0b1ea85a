/**
 * The deployable zip, opened and loaded the way the Functions host loads it: the worker reads
 * package.json `main`, require()s each file, and the app registers its functions through
 * `@azure/functions-core`, a module the worker provides. Here a stand-in of that module records
 * the registrations, so a zip that would deploy with "No job functions found" fails this test.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildCleanupFunction } from '../../../scripts/build-cleanup-function.js';
import { startAzureMonitorStandIn } from '../../support/azure-monitor-stand-in.js';
import { blobs, createContainer, DAY, names, seed } from './fixtures.js';

const run = promisify(execFile);
const azurite = inject('azurite');

/** What the worker's core module sees: the programming model and each registration. */
const FAKE_FUNCTIONS_CORE = `
const calls = [];
module.exports = {
  setProgrammingModel(model) { calls.push({ kind: 'programmingModel', name: model.name, version: model.version }); },
  registerFunction(metadata, callback) { calls.push({ kind: 'function', metadata, callback: typeof callback }); return { dispose() {} }; },
  registerHook() { return { dispose() {} }; },
  log() {},
};
globalThis.__registrations = calls;
`;

/** Loads every file `main` names, then (optionally) runs the exported handler once. */
const LOADER = `
const fs = require('node:fs');
const path = require('node:path');
const main = JSON.parse(fs.readFileSync('package.json', 'utf8')).main;
const dir = path.dirname(main);
const pattern = new RegExp('^' + path.basename(main).replace(/[.]/g, '\\\\.').replace('*', '.*') + '$');
const files = fs.readdirSync(dir).filter((file) => pattern.test(file)).sort();
const modules = files.map((file) => require(path.resolve(dir, file)));
(async () => {
  let invocation;
  if (process.env.RUN_HANDLER) {
    const lines = [];
    const context = { invocationId: 'zip-test', functionName: 'cleanupExpiredExports',
      log: (...a) => lines.push(a.join(' ')), warn: (...a) => lines.push(a.join(' ')), error: (...a) => lines.push(a.join(' ')) };
    await modules[0].cleanupExpiredExports({ isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: {} }, context);
    invocation = lines;
  }
  // Exit once written, as a test harness: the worker keeps its process, and an SDK's timers
  // (telemetry's export interval) would otherwise hold this one open for a minute.
  process.stdout.write(JSON.stringify({ files, registrations: globalThis.__registrations, invocation }), () => process.exit(0));
})().catch((error) => { console.error(error); process.exit(1); });
`;

interface LoadResult {
  files: string[];
  registrations: Array<{ kind: string; name?: string; metadata?: { name: string; bindings: Record<string, Record<string, unknown>> }; callback?: string }>;
  invocation?: string[];
}

async function unzip(zipFile: string, into: string): Promise<string[]> {
  const zip = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(zipFile, { lazyEntries: true });
  const entries: string[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry.fileName);
      zip.openReadStream(entry, async (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        const target = path.join(into, entry.fileName);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, Buffer.concat(chunks));
        zip.readEntry();
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return entries;
}

describe('the cleanup function zip', () => {
  let workDir: string;
  let appDir: string;
  let entries: string[];

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'cleanup-zip-'));
    const build = await buildCleanupFunction(path.join(workDir, 'out'));
    appDir = path.join(workDir, 'app');
    entries = await unzip(build.zip, appDir);
    const core = path.join(appDir, 'node_modules/@azure/functions-core');
    await mkdir(core, { recursive: true });
    await writeFile(path.join(core, 'package.json'), '{"name":"@azure/functions-core","main":"index.js"}');
    await writeFile(path.join(core, 'index.js'), FAKE_FUNCTIONS_CORE);
  });

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const load = async (env: Record<string, string> = {}): Promise<LoadResult> => {
    const { stdout } = await run(process.execPath, ['-e', LOADER], { cwd: appDir, env: { PATH: process.env.PATH, ...env } });
    return JSON.parse(stdout) as LoadResult;
  };

  it('holds host.json, a package.json whose main finds the bundles, and nothing else', async () => {
    expect(entries.sort()).toEqual(['dist/functions/cleanupExpiredExports.js', 'dist/functions/cleanupExpiredExports.js.LEGAL.txt', 'host.json', 'package.json']);
    const host = JSON.parse(await readFile(path.join(appDir, 'host.json'), 'utf8')) as { version: string };
    expect(host.version).toBe('2.0');
    const manifest = JSON.parse(await readFile(path.join(appDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.main).toBe('dist/functions/*.js');
    expect(manifest).not.toHaveProperty('devDependencies');
    expect(manifest).not.toHaveProperty('dependencies');
    expect(manifest).not.toHaveProperty('type');
    expect(await readdir(path.join(appDir, 'dist/functions'))).toContain('cleanupExpiredExports.js');
  });

  it('registers the timer with its name and the default schedule, run on startup off', async () => {
    const result = await load();
    expect(result.files).toEqual(['cleanupExpiredExports.js']);
    expect(result.registrations[0]).toMatchObject({ kind: 'programmingModel', name: '@azure/functions' });
    const functions = result.registrations.filter((call) => call.kind === 'function');
    expect(functions).toHaveLength(1);
    expect(functions[0]!.callback).toBe('function');
    expect(functions[0]!.metadata!.name).toBe('cleanupExpiredExports');
    const bindings = Object.values(functions[0]!.metadata!.bindings);
    expect(bindings).toEqual([expect.objectContaining({ type: 'timerTrigger', direction: 'in', schedule: '0 0 0 * * *', runOnStartup: false })]);
  });

  it('takes the schedule from the CLEANUP_SCHEDULE app setting', async () => {
    const result = await load({ CLEANUP_SCHEDULE: '0 30 2 * * *' });
    const timer = Object.values(result.registrations.find((call) => call.kind === 'function')!.metadata!.bindings)[0];
    expect(timer).toMatchObject({ type: 'timerTrigger', schedule: '0 30 2 * * *' });
  });

  it('refuses to load with a schedule the timer would not understand', async () => {
    await expect(load({ CLEANUP_SCHEDULE: '0 0 * * *' })).rejects.toThrow(/CLEANUP_SCHEDULE="0 0 \* \* \*" has 5 fields/);
  });

  it('runs the bundled handler against storage configured by app settings', async () => {
    const container = await createContainer(azurite.connectionString, 'zip');
    const expired = blobs(20, () => ({ tag: new Date(Date.now() - DAY).toISOString() }));
    const live = blobs(5, () => ({ tag: new Date(Date.now() + DAY).toISOString() }));
    await seed(container, [...expired, ...live]);

    const result = await load({
      RUN_HANDLER: '1',
      CLEANUP_STORAGE_CONNECTION_STRING: azurite.connectionString,
      EXPORTS_CONTAINER: container.containerName,
    });

    expect(result.invocation).toContainEqual(expect.stringMatching(/^cleanup summary: found=20 deleted=20 alreadyGone=0 failed=0 skipped=0 /));
    expect(await names(container)).toEqual(new Set(live.map((blob) => blob.name)));
    await container.delete();
  });

  it('exports the run to Application Insights through the bundled OpenTelemetry distro, with an Entra ID token', async () => {
    const monitor = await startAzureMonitorStandIn();
    try {
      const container = await createContainer(azurite.connectionString, 'zip-otel');
      await seed(container, blobs(6, () => ({ tag: new Date(Date.now() - DAY).toISOString() })));
      const result = await load({
        RUN_HANDLER: '1',
        CLEANUP_STORAGE_CONNECTION_STRING: azurite.connectionString,
        EXPORTS_CONTAINER: container.containerName,
        APPLICATIONINSIGHTS_CONNECTION_STRING: monitor.connectionString,
        NODE_EXTRA_CA_CERTS: monitor.caFile,
        ...monitor.identityEnv,
      });
      expect(result.invocation).toContainEqual(expect.stringMatching(/^cleanup summary: found=6 deleted=6 /));
      expect(monitor.authorizations.length).toBeGreaterThan(0);
      expect(monitor.authorizations.every((header) => header === `Bearer ${monitor.token}`)).toBe(true);
      const run = monitor.envelopes.find((envelope) => envelope.data.baseData.name === 'cleanup.run')!;
      expect(run.tags['ai.cloud.role']).toBe('enos-aml-cleanup');
      expect(run.data.baseData.properties['cleanup.deleted']).toBe('6');
      const metrics = monitor.envelopes
        .filter((envelope) => envelope.data.baseType === 'MetricData')
        .flatMap((envelope) => envelope.data.baseData.metrics as { name: string; value: number }[]);
      expect(metrics.find((metric) => metric.name === 'cleanup.blobs.deleted')?.value).toBe(6);
      await container.delete();
    } finally {
      await monitor.close();
    }
  });
});

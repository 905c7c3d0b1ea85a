/**
 * The connector bundle a VM installs, built for real: the Node.js runtime it carries and
 * better-sqlite3 and kerberos compiled for that runtime (linux-x64, glibc) must load together,
 * the zip must lay them out as the bootstrap expects, and the real bootstrap script must install
 * it on a VM that reaches nothing but Azure (network.allowInternetEgress false), without apt or
 * npm, with and without Kerberos. kerberos opens this machine's MIT GSSAPI libraries when it
 * loads (libkrb5-dev, which the build needs, brings them; .ci/run installs it).
 *
 * The first build on a machine compiles the modules (about two minutes on two cores); later
 * runs take them from node_modules/.cache (scripts/build-native.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConnector } from '../../scripts/build-connector.js';
import { buildNativeRuntime, selfTest, VM_NODE, type NativeRuntime } from '../../scripts/build-native.js';
import { KRB5_CONF } from './hive-fixtures.js';
import { ACCOUNT, VAULT, curlUrls, deployArgs, makeScratch, run, type Scratch } from './vm-scratch.js';

/** The C and C++ runtimes of the image the stack deploys by default: Ubuntu 24.04 LTS (glibc 2.39, GCC 14's libstdc++). */
const VM_GLIBC = '2.39';
const VM_GLIBCXX = '3.4.33';
/** Node 22's module ABI (NODE_MODULE_VERSION): what a native module must be built for. */
const NODE_22_MODULES = '127';
const KERBEROS_VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/kerberos/package.json', import.meta.url)), 'utf8')) as { version: string }).version;

const BUILD_TIMEOUT_MS = 15 * 60_000;

interface ZipEntry {
  name: string;
  mode: number;
}

function zipEntries(file: string): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: false }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error(`cannot open ${file}`));
      const entries: ZipEntry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => entries.push({ name: entry.fileName, mode: (entry.externalFileAttributes >>> 16) & 0o777 }));
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
    });
  });
}

/** The newest GLIBC_x.y (or GLIBCXX_x.y.z) version a shared object needs (its "Version References", objdump -p). */
function newestVersion(file: string, library: 'GLIBC' | 'GLIBCXX'): string {
  const versions = execFileSync('objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }).match(new RegExp(`\\b${library}_\\d+(\\.\\d+)+`, 'g')) ?? [];
  return versions.map((symbol) => symbol.slice(library.length + 1)).sort((a, b) => compareVersions(a, b)).at(-1) ?? '0';
}

function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

describe('the native runtime the VMs run', () => {
  let runtime: NativeRuntime;
  beforeAll(async () => {
    runtime = await buildNativeRuntime();
  }, BUILD_TIMEOUT_MS);

  it(`is Node.js ${VM_NODE.version} and loads better-sqlite3 built for it (module ABI ${NODE_22_MODULES})`, () => {
    expect(runtime.nodeVersion).toBe(VM_NODE.version);
    expect(runtime.modules).toBe(NODE_22_MODULES);
    // Run again here, not taken from the build's record.
    expect(selfTest(runtime.dir)).toMatch(new RegExp(`^node v${VM_NODE.version.replaceAll('.', '\\.')} \\(modules ${NODE_22_MODULES}, linux-x64\\), SQLite \\d+\\.\\d+\\.\\d+, zstd$`));
  });

  it(`loads kerberos ${KERBEROS_VERSION} with it too, through MIT GSSAPI, when asked (--kerberos)`, () => {
    expect(selfTest(runtime.dir, { kerberos: true })).toMatch(
      new RegExp(`^node v${VM_NODE.version.replaceAll('.', '\\.')} \\(modules ${NODE_22_MODULES}, linux-x64\\), SQLite \\d+\\.\\d+\\.\\d+, zstd, kerberos ${KERBEROS_VERSION.replaceAll('.', '\\.')} \\(MIT GSSAPI\\)$`),
    );
    expect(JSON.parse(readFileSync(join(runtime.dir, 'runtime/manifest.json'), 'utf8'))).toMatchObject({ 'better-sqlite3': expect.any(String), kerberos: KERBEROS_VERSION });
  });

  it.each(['better-sqlite3/build/Release/better_sqlite3.node', 'kerberos/build/Release/kerberos.node'])(
    `%s is an x86-64 ELF object that needs no newer glibc (${VM_GLIBC}) or libstdc++ (${VM_GLIBCXX}) than Ubuntu 24.04 has`,
    (module) => {
      const binary = join(runtime.dir, 'node_modules', module);
      const header = Buffer.alloc(20);
      const fd = openSync(binary, 'r');
      readSync(fd, header, 0, 20, 0);
      closeSync(fd);
      expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
      expect(header[4]).toBe(2); // 64-bit
      expect(header.readUInt16LE(18)).toBe(62); // EM_X86_64
      expect(compareVersions(newestVersion(binary, 'GLIBC'), '2.2')).toBeGreaterThan(0);
      expect(compareVersions(newestVersion(binary, 'GLIBC'), VM_GLIBC)).toBeLessThanOrEqual(0);
      expect(compareVersions(newestVersion(binary, 'GLIBCXX'), VM_GLIBCXX)).toBeLessThanOrEqual(0);
      expect(compareVersions(newestVersion(join(runtime.dir, 'runtime/bin/node'), 'GLIBC'), VM_GLIBC)).toBeLessThanOrEqual(0);
    },
  );

  it('kerberos links no Kerberos library: it opens them when loaded, so a VM without Kerberos needs none', () => {
    const needed = execFileSync('objdump', ['-p', join(runtime.dir, 'node_modules/kerberos/build/Release/kerberos.node')], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim().startsWith('NEEDED'))
      .map((line) => line.trim().split(/\s+/)[1]);
    expect(needed.length).toBeGreaterThan(0);
    expect(needed.filter((library) => /krb5|gssapi|com_err/.test(library ?? ''))).toEqual([]);
    // The plain self-test (what a VM without Kerberos runs) never loads it.
    expect(selfTest(runtime.dir)).not.toContain('kerberos');
  });

  it('the module loads with this runtime only: the build machine\'s own Node.js (another ABI) refuses it', () => {
    if (process.versions.modules === NODE_22_MODULES) return;
    // Proves the check above means something: a module built for the wrong Node.js does not load.
    expect(() => execFileSync(process.execPath, [join(runtime.dir, 'runtime/self-test.cjs')], { cwd: runtime.dir, stdio: 'pipe' })).toThrow(/NODE_MODULE_VERSION/);
  });
});

describe('the connector bundle, installed by the bootstrap on a VM without Internet egress', () => {
  let out: string;
  let zip: string;
  let scratch: Scratch;
  let kerberosScratch: Scratch;
  const outputs: string[] = [];
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'bundle-'));
    zip = (await buildConnector(out)).zip;
    scratch = makeScratch({ bundle: readFileSync(zip) });
    for (const args of [['prepare', '--tls-mode', 'keyvault'], deployArgs(scratch, 'keyvault')]) {
      const result = run(scratch, args);
      outputs.push(result.output);
      if (result.status !== 0) throw new Error(`bootstrap ${args[0]} exited ${result.status}:\n${result.output}`);
    }
    // Hive with Kerberos on an image that carries kinit (hadoop.hive.kerberos.kinit "image").
    kerberosScratch = makeScratch({ bundle: readFileSync(zip), stubs: ['kinit'] });
    const kerberos = run(kerberosScratch, deployArgs(kerberosScratch, 'keyvault', kerberosScratch.bundleSha, { KERBEROS_CLIENT: 'image', KRB5_CONF_B64: Buffer.from(KRB5_CONF).toString('base64') }));
    outputs.push(kerberos.output);
    if (kerberos.status !== 0) throw new Error(`bootstrap deploy with Kerberos exited ${kerberos.status}:\n${kerberos.output}`);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(scratch?.dir ?? '', { recursive: true, force: true });
    rmSync(kerberosScratch?.dir ?? '', { recursive: true, force: true });
  });

  it('carries the server, its runtime (executable) and the native module with its loader, and asks the VM to install nothing', async () => {
    const entries = await zipEntries(zip);
    const byName = new Map(entries.map((entry) => [entry.name, entry.mode]));
    expect(byName.get('runtime/bin/node')).toBe(0o755);
    for (const name of [
      'server.js',
      'encode-worker.js',
      'client/enos_aml.py',
      'package.json',
      'runtime/self-test.cjs',
      'runtime/manifest.json',
      'node_modules/better-sqlite3/package.json',
      'node_modules/better-sqlite3/lib/index.js',
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'node_modules/bindings/bindings.js',
      'node_modules/file-uri-to-path/package.json',
      'node_modules/kerberos/package.json',
      'node_modules/kerberos/lib/index.js',
      'node_modules/kerberos/build/Release/kerberos.node',
    ]) {
      expect(byName.has(name), name).toBe(true);
    }
    // No sources, no build tree: only what runs.
    expect(entries.filter((entry) => /(better-sqlite3|kerberos)\/(src|deps|binding\.gyp)/.test(entry.name))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(out, 'connector/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.dependencies).toBeUndefined();
  });

  it('installs with its own runtime passing the self-test, with no apt and no Internet', () => {
    expect(outputs[1]).toMatch(new RegExp(`bundle runtime: node v${VM_NODE.version.replaceAll('.', '\\.')} \\(modules ${NODE_22_MODULES}, linux-x64\\)`));
    const log = readFileSync(scratch.log, 'utf8');
    expect(log).not.toMatch(/^apt-get /m);
    for (const url of curlUrls(scratch)) expect(url.startsWith('http://169.254.169.254/') || url.startsWith(ACCOUNT) || url.startsWith(VAULT), url).toBe(true);
    // What systemd will start: the release's runtime, which loads the module from the release.
    const current = join(scratch.root, 'opt/enos-connector/current');
    expect(execFileSync(join(current, 'runtime/bin/node'), ['-e', "require('better-sqlite3'); process.stdout.write(process.version)"], { cwd: current, encoding: 'utf8' })).toBe(
      `v${VM_NODE.version}`,
    );
  });

  it('runs its encode worker on that runtime from the bundle alone (the script encode-pool.ts starts beside server.js)', () => {
    const current = join(scratch.root, 'opt/enos-connector/current');
    const script = `
      import { Worker } from 'node:worker_threads';
      const worker = new Worker(new URL('./encode-worker.js', 'file://' + process.cwd() + '/'), { execArgv: [] });
      worker.postMessage({ rid: 1, op: 'open', id: 1, spec: { format: 'csv', columns: [{ name: 'asset_id', type: 'string', typeId: 7, nullable: true }] } });
      worker.postMessage({ rid: 2, op: 'start', id: 1 });
      worker.on('message', (reply) => {
        if (reply.rid !== 2) return;
        process.stdout.write(Buffer.from(reply.chunks[0]).toString());
        void worker.terminate();
      });`;
    expect(execFileSync(join(current, 'runtime/bin/node'), ['--input-type=module', '-e', script], { cwd: current, encoding: 'utf8' })).toBe('asset_id\r\n');
  });

  it('with Kerberos, its runtime loads kerberos before the release becomes current, and the connector imports it from the release', () => {
    expect(outputs[2]).toMatch(new RegExp(`bundle runtime: node v${VM_NODE.version.replaceAll('.', '\\.')} .*, kerberos ${KERBEROS_VERSION.replaceAll('.', '\\.')} \\(MIT GSSAPI\\)`));
    expect(readFileSync(kerberosScratch.log, 'utf8')).not.toMatch(/^apt-get /m);
    // server.js is ESM and imports kerberos dynamically (app/src/hive/kerberos/gssapi.ts): the same import, from the release.
    const current = join(kerberosScratch.root, 'opt/enos-connector/current');
    const loaded = execFileSync(join(current, 'runtime/bin/node'), ['--input-type=module', '-e', "const k = await import('kerberos'); process.stdout.write(typeof (k.default ?? k).initializeClient)"], {
      cwd: current,
      encoding: 'utf8',
    });
    expect(loaded).toBe('function');
  });
});

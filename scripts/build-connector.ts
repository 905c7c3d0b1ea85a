/**
 * Builds the connector's deployable bundle: `dist/connector/` (server.js bundled by esbuild, the
 * web page, the Python helper, the Node.js runtime the VMs run and the native modules built for
 * it, see build-native.ts)
 * and `dist/connector.zip` with a content hash. The VM installs it as it is: nothing is
 * downloaded or compiled there.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';
import { buildNativeRuntime, NATIVE_MODULES } from './build-native.js';
import { buildWeb } from './build-web.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Modules esbuild leaves out: the native ones, which ship beside server.js built for the bundled
 * runtime (build-native). The connector imports kerberos only when HIVE_AUTH is KERBEROS.
 */
const EXTERNAL = NATIVE_MODULES.map((module) => module.name);
/** Files the VM executes: zip entries carry the mode (the bootstrap sets it again, unzip tools differ). */
const EXECUTABLES = new Set(['runtime/bin/node']);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : Promise.resolve([path.join(dir, entry.name)]))),
  );
  return nested.flat().sort();
}

/** Zips a folder deterministically (sorted entries, fixed mtime) so the same input gives the same hash. */
export async function zipFolder(dir: string, zipFile: string): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const file of await filesUnder(dir)) {
    const name = path.relative(dir, file).split(path.sep).join('/');
    zip.addFile(file, name, { mtime: new Date('2000-01-01T00:00:00Z'), mode: EXECUTABLES.has(name) ? 0o100755 : 0o100644 });
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(zipFile)).on('close', resolve).on('error', reject);
  });
  return createHash('sha256').update(await readFile(zipFile)).digest('hex');
}

/**
 * The connector as ESM files, as deployed (the benchmarks run this very output): `outfile` and,
 * beside it, encode-worker.js, the script of its encode worker threads (app/src/exports/encode-pool.ts),
 * and client/enos_aml.py, the Python helper it serves (app/src/http/client-router.ts).
 */
export async function bundleServer(outfile: string): Promise<void> {
  await build({
    entryPoints: {
      [path.basename(outfile, '.js')]: path.join(ROOT, 'app/src/main.ts'),
      'encode-worker': path.join(ROOT, 'app/src/exports/encode-worker.ts'),
    },
    outdir: path.dirname(outfile),
    // What is imported dynamically (telemetry's exporter, the Parquet encoder, Kerberos) becomes a
    // chunk of its own, parsed only by a connector that uses it: less to load and hold at idle.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: EXTERNAL,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  await cp(path.join(ROOT, 'app/client/enos_aml.py'), path.join(path.dirname(outfile), 'client/enos_aml.py'));
}

export async function buildConnector(outDir = path.join(ROOT, 'dist')): Promise<{ zip: string; sha256: string; bytes: number }> {
  const bundleDir = path.join(outDir, 'connector');
  await rm(bundleDir, { recursive: true, force: true });
  await mkdir(bundleDir, { recursive: true });
  await bundleServer(path.join(bundleDir, 'server.js'));
  const web = await buildWeb(path.join(outDir, 'web'));
  if (web) await cp(path.join(outDir, 'web'), path.join(bundleDir, 'web'), { recursive: true });
  // runtime/ (bin/node, self-test.cjs, manifest.json) and node_modules/ (better-sqlite3 with its loader, kerberos).
  const native = await buildNativeRuntime();
  await cp(native.dir, bundleDir, { recursive: true });

  const rootPackage = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  await writeFile(
    path.join(bundleDir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'enos-aml-connector-bundle',
        version: rootPackage.version,
        private: true,
        type: 'module',
        main: 'server.js',
        // The runtime it was built and tested with is in runtime/ (runtime/manifest.json).
        engines: { node: `${native.nodeVersion}` },
        scripts: { start: 'runtime/bin/node server.js' },
      },
      null,
      2,
    )}\n`,
  );
  const zip = path.join(outDir, 'connector.zip');
  const sha256 = await zipFolder(bundleDir, zip);
  await writeFile(path.join(outDir, 'connector.zip.sha256'), `${sha256}  connector.zip\n`);
  return { zip, sha256, bytes: (await stat(zip)).size };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await buildConnector();
  process.stdout.write(`connector bundle: ${path.relative(ROOT, result.zip)} (${(result.bytes / 1e6).toFixed(1)} MB, sha256 ${result.sha256})\n`);
}

/**
 * Builds the connector's deployable bundle: `dist/connector/` (server.js bundled by esbuild, the
 * web page, a package.json naming the one native dependency) and `dist/connector.zip` with a
 * content hash. better-sqlite3 and kerberos are native and must match the Node.js ABI of the VM
 * (Node 22), so they are not bundled: the VM bootstrap runs `npm install --omit=dev` in the
 * bundle folder.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import yazl from 'yazl';
import { buildWeb } from './build-web.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Native or optional modules that must be installed on the target, not bundled. */
const EXTERNAL = ['better-sqlite3', 'kerberos'];

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
    zip.addFile(file, path.relative(dir, file).split(path.sep).join('/'), { mtime: new Date('2000-01-01T00:00:00Z'), mode: 0o100644 });
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(zipFile)).on('close', resolve).on('error', reject);
  });
  return createHash('sha256').update(await readFile(zipFile)).digest('hex');
}

export async function buildConnector(outDir = path.join(ROOT, 'dist')): Promise<{ zip: string; sha256: string; bytes: number }> {
  const bundleDir = path.join(outDir, 'connector');
  await rm(bundleDir, { recursive: true, force: true });
  await mkdir(bundleDir, { recursive: true });
  await build({
    entryPoints: [path.join(ROOT, 'app/src/main.ts')],
    outfile: path.join(bundleDir, 'server.js'),
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
  const web = await buildWeb(path.join(outDir, 'web'));
  if (web) await cp(path.join(outDir, 'web'), path.join(bundleDir, 'web'), { recursive: true });

  const rootPackage = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  // The exact version installed here, so the VM installs what was tested.
  const pinned = async (name: string) =>
    JSON.parse(await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  await writeFile(
    path.join(bundleDir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'enos-aml-connector-bundle',
        version: rootPackage.version,
        private: true,
        type: 'module',
        main: 'server.js',
        engines: { node: '>=20' },
        scripts: { start: 'node server.js' },
        dependencies: { 'better-sqlite3': (await pinned('better-sqlite3')).version },
        // Native, built on the VM against libkrb5-dev; only HIVE_AUTH=KERBEROS loads it, so a VM
        // without the Kerberos packages installs the bundle all the same.
        optionalDependencies: { kerberos: (await pinned('kerberos')).version },
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

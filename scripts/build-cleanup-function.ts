/**
 * Builds the cleanup function's deployable zip: `dist/cleanup-function/` (host.json, a
 * package.json whose `main` globs the bundled functions, one esbuild bundle per function with
 * every dependency inside) and `dist/cleanup-function.zip` with its sha256. No node_modules,
 * no dev dependencies, nothing for the host to install: deploy with remote build off.
 *
 * `@azure/functions-core` stays external: it is not a package but the Functions worker's own
 * module, provided at run time; bundling it away is the classic cause of "No job functions found".
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { zipFolder } from './build-connector.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = path.join(ROOT, 'cleanup-function');
const FUNCTIONS_DIR = 'dist/functions';

export interface CleanupFunctionBuild {
  zip: string;
  sha256: string;
  bytes: number;
  functions: string[];
}

export async function buildCleanupFunction(outDir = path.join(ROOT, 'dist')): Promise<CleanupFunctionBuild> {
  const appDir = path.join(outDir, 'cleanup-function');
  await rm(appDir, { recursive: true, force: true });
  await mkdir(appDir, { recursive: true });

  const entries = (await readdir(path.join(SOURCE, 'src/functions'))).filter((file) => file.endsWith('.ts')).sort();
  if (entries.length === 0) throw new Error(`no functions in ${path.join(SOURCE, 'src/functions')}: expected one .ts file per function`);
  await build({
    entryPoints: entries.map((file) => path.join(SOURCE, 'src/functions', file)),
    outdir: path.join(appDir, FUNCTIONS_DIR),
    bundle: true,
    platform: 'node',
    target: 'node20',
    // CommonJS: the worker require()s the entry files, and the bundled SDKs are CommonJS at heart.
    format: 'cjs',
    external: ['@azure/functions-core'],
    // Some bundled SDK modules are ESM-only and read import.meta.url, which CommonJS lacks.
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__importMetaUrl' },
    // Not minified and no source map: stack traces point at readable code, the zip stays small.
    legalComments: 'linked',
    logLevel: 'warning',
  });

  const template = JSON.parse(await readFile(path.join(SOURCE, 'package.template.json'), 'utf8')) as Record<string, unknown>;
  const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  if (template.main !== `${FUNCTIONS_DIR}/*.js`) {
    throw new Error(`cleanup-function/package.template.json has main ${JSON.stringify(template.main)}; expected "${FUNCTIONS_DIR}/*.js", where the bundles go`);
  }
  await writeFile(path.join(appDir, 'package.json'), `${JSON.stringify({ ...template, version }, null, 2)}\n`);
  await writeFile(path.join(appDir, 'host.json'), await readFile(path.join(SOURCE, 'host.json')));

  const zip = path.join(outDir, 'cleanup-function.zip');
  const sha256 = await zipFolder(appDir, zip);
  await writeFile(path.join(outDir, 'cleanup-function.zip.sha256'), `${sha256}  cleanup-function.zip\n`);
  return { zip, sha256, bytes: (await stat(zip)).size, functions: entries.map((file) => file.replace(/\.ts$/, '')) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await buildCleanupFunction();
  process.stdout.write(
    `cleanup function: ${path.relative(ROOT, result.zip)} (${(result.bytes / 1e6).toFixed(1)} MB, sha256 ${result.sha256}; functions: ${result.functions.join(', ')})\n`,
  );
}

/**
 * Builds the web page: app/web/main.ts bundled and minified by esbuild, plus the static
 * index.html and styles.css, into one folder the connector serves. No inline scripts: the page
 * runs under the connector's strict Content-Security-Policy.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WEB = path.join(ROOT, 'app/web');

/** Returns false when there is no web page to build yet. */
export async function buildWeb(outDir = path.join(ROOT, 'dist/web')): Promise<boolean> {
  if (!existsSync(path.join(WEB, 'main.ts'))) return false;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(WEB, 'main.ts')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari16'],
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css', 'favicon.svg']) {
    if (existsSync(path.join(WEB, file))) await copyFile(path.join(WEB, file), path.join(outDir, file));
  }
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write((await buildWeb()) ? 'web page built into dist/web\n' : 'no web page to build (app/web/main.ts missing)\n');
}

/**
 * `npm run bench [name ...]`: runs the benchmark scripts in this folder (every `*.ts` but this
 * one), or only the named ones. Each prints ratios measured within its own run, so the figures
 * compare like with like on a shared machine. Benchmarks are never tests.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const available = (await readdir(HERE)).filter((file) => file.endsWith('.ts') && file !== 'index.ts').map((file) => file.slice(0, -3)).sort();
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : available) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const module = (await import(pathToFileURL(path.join(HERE, `${name}.ts`)).href)) as { default?: () => Promise<void> };
  if (typeof module.default !== 'function') throw new Error(`scripts/bench/${name}.ts has no default export function`);
  await module.default();
}

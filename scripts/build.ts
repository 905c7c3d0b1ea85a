/**
 * `npm run build`: every deployable artifact into dist/ — the connector bundle (with the web
 * page) and the cleanup function's zip — each with its sha256, which the infrastructure uses
 * to roll out a changed bundle on the next deploy.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCleanupFunction } from './build-cleanup-function.js';
import { buildConnector } from './build-connector.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(ROOT, 'dist');
const connector = await buildConnector(outDir);
process.stdout.write(`dist/connector.zip  ${(connector.bytes / 1e6).toFixed(1)} MB  sha256 ${connector.sha256}\n`);
const cleanup = await buildCleanupFunction(outDir);
process.stdout.write(`cleanup function    ${JSON.stringify(cleanup)}\n`);

/**
 * Serves the web page for EnOS users: the static bundle that esbuild builds from app/web/ into
 * dist/web/ (scripts/build-web.ts). Until the bundle exists, `/` explains how to build it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** In the deployed bundle the page sits next to server.js; in the repository it is built into dist/web. */
const CANDIDATES = [path.join(HERE, 'web'), path.resolve(HERE, '../../../dist/web')];

export function webRouter(dir = CANDIDATES.find((candidate) => existsSync(path.join(candidate, 'index.html'))) ?? CANDIDATES[1]!): Router {
  const router = Router();
  if (existsSync(path.join(dir, 'index.html'))) {
    router.use(express.static(dir, { index: 'index.html', maxAge: '5m', fallthrough: true }));
  } else {
    router.get('/', (_req, res) => {
      res.type('html').send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>enos-aml-connector</title></head>' +
          '<body><main><h1>enos-aml-connector</h1><p>The web page is not built. Run <code>npm run build</code>. ' +
          'The API is described at <a href="/docs">/docs</a>.</p></main></body></html>',
      );
    });
  }
  return router;
}

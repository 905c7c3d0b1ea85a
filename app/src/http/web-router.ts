/**
 * Serves the web page for EnOS users: the static bundle that esbuild builds from app/web/ into
 * dist/web/ (scripts/build-web.ts). Until the bundle exists, `/` explains how to build it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const DEFAULT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

export function webRouter(dir = DEFAULT_DIR): Router {
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

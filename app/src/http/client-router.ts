/**
 * Serves the Python helper (app/client/enos_aml.py) at a stable path, `/client/enos_aml.py`, so a
 * notebook can fetch the version that matches this connector. No sign-in: the file holds no
 * secret, and a notebook that has only an access token must be able to get it. Read once at
 * start; a short public cache lifetime with an ETag, so a new release reaches users within
 * minutes and a revalidation costs a 304.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';

export const CLIENT_PATH = '/client/enos_aml.py';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** In the deployed bundle the file sits in client/ next to server.js; in the repository in app/client. */
const CANDIDATES = [path.join(HERE, 'client/enos_aml.py'), path.resolve(HERE, '../../client/enos_aml.py')];

export function clientRouter(file = CANDIDATES.find((candidate) => existsSync(candidate))): Router {
  if (!file) throw new Error(`The Python helper is missing: expected it at ${CANDIDATES.join(' or ')}`);
  const source = readFileSync(file);
  const etag = `"${createHash('sha256').update(source).digest('base64url')}"`;
  const router = Router();
  router.get(CLIENT_PATH, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    // With the ETag set, Express answers a matching If-None-Match with 304 (req.fresh).
    res.setHeader('ETag', etag);
    res.type('text/x-python; charset=utf-8').send(source);
  });
  return router;
}

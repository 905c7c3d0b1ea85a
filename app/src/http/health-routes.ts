/**
 * /healthz answers while the process runs; /readyz checks every dependency the connector needs
 * to serve an export (Hive, storage, the job store, the identity service) in parallel, each with
 * its own time budget, and reports which one is failing without leaking why.
 */
import { Router } from 'express';
import type { Logger } from '../logger.js';

export type ReadinessCheck = () => Promise<void>;

export function healthRoutes(checks: Record<string, ReadinessCheck>, logger: Logger, timeoutMs = 8_000): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
            }),
          ]);
          return [name, 'ok'] as const;
        } catch (error) {
          logger.warn({ check: name, err: error }, 'readiness check failed');
          return [name, 'failing'] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  return router;
}

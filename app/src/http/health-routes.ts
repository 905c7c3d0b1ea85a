/**
 * /healthz answers while the process runs; /readyz checks every dependency the connector needs
 * to serve an export (Hive, storage, the job store, the identity service) in parallel, each with
 * its own time budget, and reports which one is failing without leaking why. A load balancer
 * probes /readyz every few seconds, so each answer is reused for `cacheMs`: the probe must not
 * open a HiveServer2 session per instance every five seconds. Failing answers are kept for a
 * second only, so recovery shows at once.
 */
import { Router } from 'express';
import type { Logger } from '../logger.js';

export type ReadinessCheck = () => Promise<void>;

export function healthRoutes(checks: Record<string, ReadinessCheck>, logger: Logger, options: { timeoutMs?: number; cacheMs?: number } = {}): Router {
  const timeoutMs = options.timeoutMs ?? 8_000;
  const cacheMs = options.cacheMs ?? 10_000;
  let cached: { at: number; ttl: number; answer: Promise<readonly (readonly [string, 'ok' | 'failing'])[]> } | undefined;
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const runChecks = () =>
    Promise.all(
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
  router.get('/readyz', async (_req, res) => {
    if (!cached || Date.now() - cached.at >= cached.ttl) cached = { at: Date.now(), ttl: cacheMs, answer: runChecks() };
    const entry = cached;
    const results = await entry.answer;
    const ready = results.every(([, state]) => state === 'ok');
    // A failing answer is re-checked soon, so recovery shows without waiting out the cache.
    if (!ready) entry.ttl = Math.min(cacheMs, 1_000);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  return router;
}

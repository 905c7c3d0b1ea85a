/**
 * The export routes: thin translations between HTTP and the export use cases. Every route is
 * behind a session; ids that are not UUIDs are 404 before any store is asked.
 */
import { Router, type Request } from 'express';
import type { z } from 'zod';
import type { SessionTokens } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import type { ExportService } from '../exports/export-service.js';
import { createExportRequest, describeIssues, EXPORT_ID, newLinkRequest } from './api-schemas.js';
import { rememberSubmitContext } from '../telemetry/export-telemetry.js';
import { principalOf, requireSession, sessionOf } from './auth-middleware.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

function exportId(req: Request): string {
  const id = String(req.params.id ?? '');
  if (!EXPORT_ID.test(id)) throw new AppError('not_found', 404, 'No export with this id');
  return id;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new AppError('validation_failed', 400, describeIssues(parsed.error));
  return parsed.data;
}

export function exportsRouter(deps: { service: ExportService; tokens: SessionTokens; maxTtlMinutes: number }): Router {
  const router = Router();
  const { service } = deps;
  const createSchema = createExportRequest(deps.maxTtlMinutes);
  const linkSchema = newLinkRequest(deps.maxTtlMinutes);
  router.use('/api/v1/exports', requireSession(deps.tokens));

  router.post('/api/v1/exports', async (req, res) => {
    const body = parse(createSchema, req.body);
    const idempotencyKey = req.get('idempotency-key');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new AppError('validation_failed', 400, 'Idempotency-Key must be 1-200 visible ASCII characters');
    }
    const { job, created } = await service.submit(principalOf(req), { ...body, ...(idempotencyKey ? { idempotencyKey } : {}) });
    if (!created) res.setHeader('Idempotent-Replayed', 'true');
    // The export's run continues this request's trace.
    else rememberSubmitContext(job.id);
    res.status(202).location(`/api/v1/exports/${job.id}`).json(await service.view(job));
  });

  router.get('/api/v1/exports', async (req, res) => {
    const jobs = await service.list(sessionOf(req));
    res.json({ exports: await Promise.all(jobs.map((job) => service.view(job))) });
  });

  router.get('/api/v1/exports/:id', async (req, res) => {
    res.json(await service.view(await service.get(sessionOf(req), exportId(req))));
  });

  router.post('/api/v1/exports/:id/cancel', async (req, res) => {
    res.status(202).json(await service.view(await service.cancel(principalOf(req), exportId(req))));
  });

  router.post('/api/v1/exports/:id/link', async (req, res) => {
    const id = exportId(req);
    const { ttlMinutes } = parse(linkSchema, req.body);
    res.json(await service.view(await service.newLink(principalOf(req), id, ttlMinutes)));
  });

  router.delete('/api/v1/exports/:id', async (req, res) => {
    await service.remove(principalOf(req), exportId(req));
    res.status(204).end();
  });

  return router;
}

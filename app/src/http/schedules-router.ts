/**
 * Refreshing exports: create, list, read (with runs and the one being served), pause, resume,
 * a new stable link, revoke the link, delete. Thin: the rules live in schedules/.
 */
import { Router, type Request } from 'express';
import type { z } from 'zod';
import type { SessionTokens } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import type { Schedule } from '../schedules/schedule.js';
import type { RunView, ScheduleService } from '../schedules/schedule-service.js';
import { createScheduleRequest, describeIssues, EXPORT_ID, newStableLinkRequest, type scheduleRunView, type scheduleView } from './api-schemas.js';
import { principalOf, requireSession } from './auth-middleware.js';

function scheduleId(req: Request): string {
  const id = String(req.params.id ?? '');
  if (!EXPORT_ID.test(id)) throw new AppError('not_found', 404, 'No refreshing export with this id');
  return id;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new AppError('validation_failed', 400, describeIssues(parsed.error));
  return parsed.data;
}

const runView = (run: RunView): z.output<typeof scheduleRunView> => ({
  slot: run.slot.toISOString(),
  exportId: run.exportId,
  status: run.status,
  finishedAt: run.finishedAt?.toISOString() ?? null,
  rows: run.rows,
  error: run.error,
});

export function schedulesRouter(deps: {
  service: ScheduleService;
  tokens: SessionTokens;
  limits: { maxKeep: number; linkMaxDays: number };
  /** The connector's public address, for the stable URL. */
  publicBaseUrl: () => string;
  clock?: () => Date;
}): Router {
  const router = Router();
  const { service } = deps;
  const createSchema = createScheduleRequest(deps.limits);
  const linkSchema = newStableLinkRequest(deps.limits.linkMaxDays);
  router.use('/api/v1/schedules', requireSession(deps.tokens));

  const view = async (schedule: Schedule): Promise<z.output<typeof scheduleView>> => {
    const { runs, serving } = await service.details(schedule);
    const now = deps.clock?.() ?? new Date();
    const linkLive = !schedule.linkRevokedAt && schedule.linkExpiresAt > now;
    return {
      id: schedule.id,
      name: schedule.name,
      sql: schedule.sql,
      format: schedule.format,
      cron: schedule.cron,
      keepLast: schedule.keepLast,
      status: schedule.status,
      pausedReason: schedule.pausedReason ?? null,
      nextRunAt: schedule.nextRunAt?.toISOString() ?? null,
      stableUrl: linkLive ? new URL(`l/${schedule.linkId}`, deps.publicBaseUrl().replace(/\/?$/, '/')).toString() : null,
      linkExpiresAt: schedule.linkExpiresAt.toISOString(),
      linkRevoked: schedule.linkRevokedAt !== undefined,
      createdAt: schedule.createdAt.toISOString(),
      lastRun: runs[0] ? runView(runs[0]) : null,
      serving: serving ? runView(serving) : null,
      runs: runs.map(runView),
    };
  };

  router.post('/api/v1/schedules', async (req, res) => {
    const created = await service.create(principalOf(req), parse(createSchema, req.body));
    res.status(201).location(`/api/v1/schedules/${created.id}`).json(await view(created));
  });

  router.get('/api/v1/schedules', async (req, res) => {
    const schedules = await service.list(principalOf(req));
    res.json({ schedules: await Promise.all(schedules.map((schedule) => view(schedule))) });
  });

  router.get('/api/v1/schedules/:id', async (req, res) => {
    res.json(await view(await service.get(principalOf(req), scheduleId(req))));
  });

  router.post('/api/v1/schedules/:id/pause', async (req, res) => {
    res.json(await view(await service.pause(principalOf(req), scheduleId(req))));
  });

  router.post('/api/v1/schedules/:id/resume', async (req, res) => {
    res.json(await view(await service.resume(principalOf(req), scheduleId(req))));
  });

  router.post('/api/v1/schedules/:id/link', async (req, res) => {
    const id = scheduleId(req);
    const { linkTtlDays } = parse(linkSchema, req.body);
    res.json(await view(await service.newLink(principalOf(req), id, linkTtlDays)));
  });

  router.delete('/api/v1/schedules/:id/link', async (req, res) => {
    res.json(await view(await service.revokeLink(principalOf(req), scheduleId(req))));
  });

  router.delete('/api/v1/schedules/:id', async (req, res) => {
    await service.remove(principalOf(req), scheduleId(req));
    res.status(204).end();
  });

  return router;
}

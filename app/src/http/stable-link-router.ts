/**
 * `GET /l/{linkId}`: the stable URL of a refreshing export. Answers 302 to a download URL of the
 * latest good result, minted for this visit (a short-lived read-only SAS, or a signed local URL),
 * so a data asset registered once in Azure ML keeps working while the data under it is renewed.
 * A result of several parts answers 302 to its MLTable instead, minted the same way: the one URL
 * that names all of them. (Its part URLs last as long as that redirect with the local method,
 * which renders the MLTable per request; with Blob the MLTable is a stored file whose part URLs
 * last until the result expires — they are grants to that result only, like the MLTable's own.)
 * The link carries no credential of its owner; it is revocable and has its own expiry.
 */
import { Router } from 'express';
import { AppError } from '../errors.js';
import { LINK_ID } from '../schedules/schedule.js';
import type { ScheduleService } from '../schedules/schedule-service.js';

export function stableLinkRouter(deps: { service: ScheduleService }): Router {
  const router = Router();
  router.get('/l/:linkId', async (req, res) => {
    const linkId = String(req.params.linkId);
    if (!LINK_ID.test(linkId)) throw new AppError('not_found', 404, 'No data set at this link');
    const url = await deps.service.resolveLink(linkId, { ...(req.ip ? { clientAddress: req.ip } : {}), requestId: req.id });
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(302, url);
  });
  return router;
}

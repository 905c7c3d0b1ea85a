/**
 * POST /api/v1/previews {sql, rows?}: the first rows of a query while the caller waits (see
 * previews/preview-service.ts). A caller that hangs up stops the preview and its Hive query.
 */
import { Router } from 'express';
import type { SessionTokens } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import type { PreviewService } from '../previews/preview-service.js';
import { createPreviewRequest, describeIssues } from './api-schemas.js';
import { principalOf, requireSession } from './auth-middleware.js';

export function previewsRouter(deps: { service: PreviewService; tokens: SessionTokens }): Router {
  const router = Router();
  router.post('/api/v1/previews', requireSession(deps.tokens), async (req, res) => {
    const parsed = createPreviewRequest.safeParse(req.body ?? {});
    if (!parsed.success) throw new AppError('validation_failed', 400, describeIssues(parsed.error));
    const hungUp = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) hungUp.abort(new AppError('conflict', 409, 'The preview was cancelled: the client went away'));
    };
    res.on('close', onClose);
    try {
      res.json(await deps.service.run(principalOf(req), parsed.data, hungUp.signal));
    } finally {
      res.off('close', onClose);
    }
  });
  return router;
}

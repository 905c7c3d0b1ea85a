/** GET /api/v1/catalog: what the caller's organization may export, for the web page's side list. */
import { Router } from 'express';
import type { SessionTokens, SessionUser } from '../auth/session-tokens.js';
import type { Config } from '../config/config.js';
import type { CatalogEntry } from '../hive/catalog.js';
import { DEFAULT_MAX_SQL_LENGTH } from '../sql-guard/guard.js';
import { EXPORT_FORMATS } from '../storage/export-store.js';
import { requireSession, sessionOf } from './auth-middleware.js';

export function catalogRouter(deps: {
  tokens: SessionTokens;
  catalog: (user: SessionUser) => Promise<CatalogEntry[]>;
  exportsConfig: Config['exports'];
}): Router {
  const router = Router();
  router.get('/api/v1/catalog', requireSession(deps.tokens), async (req, res) => {
    const user = sessionOf(req);
    res.json({
      organizationId: user.organizationId,
      databases: await deps.catalog(user),
      maxTtlMinutes: deps.exportsConfig.maxTtlMinutes,
      defaultTtlMinutes: deps.exportsConfig.defaultTtlMinutes,
      formats: EXPORT_FORMATS,
      maxSqlLength: DEFAULT_MAX_SQL_LENGTH,
    });
  });
  return router;
}

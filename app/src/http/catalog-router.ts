/**
 * GET /api/v1/catalog: what the caller's organization may export, for the web page's side list;
 * GET /api/v1/catalog/tables/{database}/{table}/columns: one table's columns and types, asked for
 * when the page opens the table. A table the organization may not read is answered exactly like
 * one that does not exist (404), so the catalog does not confirm other organizations' tables.
 */
import { Router, type Request } from 'express';
import type { SessionTokens, SessionUser } from '../auth/session-tokens.js';
import type { Config } from '../config/config.js';
import { AppError } from '../errors.js';
import type { CatalogEntry, ColumnLister } from '../hive/catalog.js';
import { DEFAULT_MAX_SQL_LENGTH, isHiveName } from '../sql-guard/guard.js';
import { EXPORT_FORMATS } from '../storage/export-store.js';
import { requireSession, sessionOf } from './auth-middleware.js';

export function catalogRouter(deps: {
  tokens: SessionTokens;
  catalog: (user: SessionUser) => Promise<CatalogEntry[]>;
  /** Whether the user's organization may read the table (the SQL guard's rule). */
  mayRead: (user: SessionUser, database: string, table: string) => boolean;
  columns: ColumnLister;
  exportsConfig: Config['exports'];
}): Router {
  const router = Router();
  router.use('/api/v1/catalog', requireSession(deps.tokens));

  router.get('/api/v1/catalog', async (req, res) => {
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

  router.get('/api/v1/catalog/tables/:database/:table/columns', async (req: Request, res) => {
    const user = sessionOf(req);
    const database = String(req.params.database ?? '');
    const table = String(req.params.table ?? '');
    if (!isHiveName(database) || !isHiveName(table)) throw new AppError('not_found', 404, "No such table in your organization's catalog");
    const notFound = () => new AppError('not_found', 404, `No table ${database}.${table} in your organization's catalog`);
    if (!deps.mayRead(user, database, table)) throw notFound();
    const columns = await deps.columns(database, table);
    if (columns.length === 0) throw notFound();
    res.json({ database: database.toLowerCase(), table: table.toLowerCase(), columns });
  });

  return router;
}

/**
 * Personal access tokens: POST makes one and shows its secret this once, GET lists them (never
 * the secret), DELETE revokes one. Only a signed-in user (a session, not a token) makes tokens.
 */
import { Router, type Request } from 'express';
import type { z } from 'zod';
import { tokenStatus, type AccessTokens } from '../auth/access-tokens.js';
import type { AccessTokenRecord } from '../auth/access-token-store.js';
import type { SessionTokens } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import { createTokenRequest, describeIssues, EXPORT_ID, type tokenView } from './api-schemas.js';
import { principalOf, requireSession } from './auth-middleware.js';

function tokenId(req: Request): string {
  const id = String(req.params.id ?? '');
  if (!EXPORT_ID.test(id)) throw new AppError('not_found', 404, 'No active access token with this id');
  return id;
}

export function toTokenView(token: AccessTokenRecord, now: Date): z.output<typeof tokenView> {
  return {
    id: token.id,
    name: token.name,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    status: tokenStatus(token, now),
  };
}

export function tokensRouter(deps: { tokens: SessionTokens; accessTokens: AccessTokens; maxDays: number; clock?: () => Date }): Router {
  const router = Router();
  const now = () => deps.clock?.() ?? new Date();
  const createSchema = createTokenRequest(deps.maxDays);
  router.use('/api/v1/tokens', requireSession(deps.tokens));

  router.post('/api/v1/tokens', async (req, res) => {
    const parsed = createSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new AppError('validation_failed', 400, describeIssues(parsed.error));
    const { secret, record } = await deps.accessTokens.create(principalOf(req), parsed.data);
    res.status(201).location(`/api/v1/tokens/${record.id}`).json({ ...toTokenView(record, now()), secret });
  });

  router.get('/api/v1/tokens', async (req, res) => {
    const tokens = await deps.accessTokens.list(principalOf(req));
    res.json({ tokens: tokens.map((token) => toTokenView(token, now())) });
  });

  router.delete('/api/v1/tokens/:id', async (req, res) => {
    await deps.accessTokens.revoke(principalOf(req), tokenId(req));
    res.status(204).end();
  });

  return router;
}

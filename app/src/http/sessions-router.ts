/**
 * Sign-in and sign-out. The EnOS session that proves the password is ended straight away: the
 * connector needs only the identity, and keeps its own short-lived, revocable token.
 */
import { Router } from 'express';
import type { IdentityProvider } from '../auth/enos-identity.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import type { SessionTokens } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';
import { describeIssues, loginRequest } from './api-schemas.js';
import { requireSession, sessionOf } from './auth-middleware.js';

export function sessionsRouter(deps: { identity: IdentityProvider; tokens: SessionTokens; throttle: LoginThrottle }): Router {
  const router = Router();

  router.post('/api/v1/sessions', async (req, res) => {
    const parsed = loginRequest.safeParse(req.body);
    if (!parsed.success) throw new AppError('validation_failed', 400, describeIssues(parsed.error));
    const { username, password } = parsed.data;
    const attempt = await deps.throttle.beforeAttempt(req.ip ?? 'unknown', username);
    let identity;
    try {
      identity = await deps.identity.login(username, password);
    } catch (error) {
      // Only a wrong password is a guess; an expired password or a disabled account is not.
      if (error instanceof AppError && error.code === 'invalid_credentials') await attempt.failed();
      else await attempt.undecided();
      throw error;
    }
    await attempt.succeeded();
    void deps.identity.logout(identity);
    const { token, session } = await deps.tokens.issue({
      userId: identity.userId,
      userName: identity.userName,
      organizationId: identity.organizationId,
    });
    req.log.info({ userId: session.userId, org: session.organizationId }, 'signed in');
    res.status(201).json({
      token,
      expiresAt: session.expiresAt.toISOString(),
      user: { id: session.userId, name: session.userName, organizationId: session.organizationId },
    });
  });

  router.delete('/api/v1/sessions/current', requireSession(deps.tokens), async (req, res) => {
    await deps.tokens.revoke(sessionOf(req));
    res.status(204).end();
  });

  return router;
}

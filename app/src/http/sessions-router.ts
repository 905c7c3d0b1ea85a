/**
 * Sign-in and sign-out. The EnOS session that proves the password is ended straight away: the
 * connector needs only the identity, and keeps its own short-lived, revocable token. Every
 * sign-in, failed or not, and every sign-out is an audit event.
 */
import { Router, type Request } from 'express';
import type { AuditTrail } from '../audit/audit-trail.js';
import { actorFields } from '../audit/audit-trail.js';
import type { IdentityProvider } from '../auth/enos-identity.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { actorOf } from '../auth/principal.js';
import type { SessionTokens } from '../auth/session-tokens.js';
import { AppError, isAppError } from '../errors.js';
import { describeIssues, loginRequest } from './api-schemas.js';
import { principalOf, requireSession } from './auth-middleware.js';

export function sessionsRouter(deps: { identity: IdentityProvider; tokens: SessionTokens; throttle: LoginThrottle; audit?: AuditTrail }): Router {
  const router = Router();

  /** A failed sign-in names the account tried; which organization it belongs to nobody can tell. */
  const noteFailure = (req: Request, username: string, error: unknown) =>
    deps.audit?.note({
      type: 'signin.failed',
      outcome: 'failure',
      organizationId: '',
      userName: username,
      via: 'anonymous',
      ...(req.ip ? { clientAddress: req.ip } : {}),
      requestId: req.id,
      reason: isAppError(error) ? error.code : 'internal',
    });

  router.post('/api/v1/sessions', async (req, res) => {
    const parsed = loginRequest.safeParse(req.body);
    if (!parsed.success) throw new AppError('validation_failed', 400, describeIssues(parsed.error));
    const { username, password } = parsed.data;
    let attempt;
    try {
      attempt = await deps.throttle.beforeAttempt(req.ip ?? 'unknown', username);
    } catch (error) {
      await noteFailure(req, username, error);
      throw error;
    }
    let identity;
    try {
      identity = await deps.identity.login(username, password);
    } catch (error) {
      // Only a wrong password is a guess; an expired password or a disabled account is not.
      if (error instanceof AppError && error.code === 'invalid_credentials') await attempt.failed();
      else await attempt.undecided();
      await noteFailure(req, username, error);
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
    await deps.audit?.note({
      type: 'signin.succeeded',
      ...actorFields(actorOf({ ...session, via: 'session', ...(req.ip ? { clientAddress: req.ip } : {}), requestId: req.id })),
      tokenId: session.tokenId,
    });
    res.status(201).json({
      token,
      expiresAt: session.expiresAt.toISOString(),
      user: { id: session.userId, name: session.userName, organizationId: session.organizationId },
    });
  });

  router.delete('/api/v1/sessions/current', requireSession(deps.tokens), async (req, res) => {
    const principal = principalOf(req);
    if (principal.via === 'access_token') {
      throw new AppError('bad_request', 400, 'This is an access token, not a session: revoke it with DELETE /api/v1/tokens/{id}');
    }
    await deps.tokens.revoke(req.session!);
    await deps.audit?.note({ type: 'signout', ...actorFields(actorOf(principal)) });
    res.status(204).end();
  });

  return router;
}

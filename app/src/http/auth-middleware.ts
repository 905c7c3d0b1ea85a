/**
 * Every /api route except sign-in runs behind this: a Bearer credential — a session token or a
 * personal access token — verified and not revoked, becomes `req.session`. Anything else is 401.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Principal } from '../auth/principal.js';
import type { Session, SessionTokens } from '../auth/session-tokens.js';
import { AppError } from '../errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    session?: Session;
  }
}

/** RFC 9110 §11.1: the scheme is case-insensitive and followed by one or more spaces; the credential is a token68. */
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export function requireSession(tokens: SessionTokens) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const match = BEARER.exec(req.get('authorization') ?? '');
    if (!match) {
      next(new AppError('unauthorized', 401, 'Sign in first: send the session token as "Authorization: Bearer <token>"'));
      return;
    }
    try {
      req.session = await tokens.verify(match[1]!, { ...(req.ip ? { clientAddress: req.ip } : {}), requestId: req.id, route: `${req.method} ${req.originalUrl.split('?')[0]}` });
      // Every later log line of this request says who made it.
      req.log = req.log.child({ userId: req.session.userId, org: req.session.organizationId, via: req.session.via ?? 'session' });
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** The caller, for handlers behind `requireSession`. */
export function sessionOf(req: Request): Session {
  if (!req.session) throw new AppError('unauthorized', 401, 'Sign in first');
  return req.session;
}

/** The caller with what the audit trail wants to know about this call. */
export function principalOf(req: Request): Principal {
  const session = sessionOf(req);
  return {
    userId: session.userId,
    userName: session.userName,
    organizationId: session.organizationId,
    via: session.via ?? 'session',
    tokenId: session.tokenId,
    ...(req.ip ? { clientAddress: req.ip } : {}),
    requestId: req.id,
  };
}

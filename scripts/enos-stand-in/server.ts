/**
 * The stand-in's HTTP surface: the APIM token API, the gateway check in front of the IAM API,
 * and the IAM login/session calls, each answering in the documented envelope. Routes only
 * translate HTTP; the rules live in app-tokens.ts, sessions.ts and login.ts.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppTokens } from './app-tokens.js';
import { gatewayError, iamError, iamOk, IamStatus, newRequestId, tokenError, tokenOk, ApimStatus } from './envelopes.js';
import { Faults, type FailOptions } from './faults.js';
import { LoginService, clampExpireInterval } from './login.js';
import type { PreparedSeed } from './seed.js';
import { SessionStore } from './sessions.js';

export const PATHS = {
  tokenGet: '/apim-token-service/v2.0/token/get',
  tokenRefresh: '/apim-token-service/v2.0/token/refresh',
  login: '/enos-iam-service/v2.0/login',
  sessionInfo: '/enos-iam-service/v2.0/session/info',
  userOrganizations: '/enos-iam-service/v2.0/user/organization/list',
  /** List Users (IAM 2.4): the OU's users with their state, for an application with the OU's administrator policy. */
  listUsers: '/enos-iam-service/v2.4/open/user/logintime/list',
  /** Not in the public IAM API reference; see the README. */
  sessionRefresh: '/enos-iam-service/v2.0/session/refresh',
  /** Not in the public IAM API reference; see the README. */
  logout: '/enos-iam-service/v2.0/logout',
} as const;

export interface StandInHooks {
  faults: Faults;
  requestCount(path: string): number;
  activeSession(id: string): boolean;
  revokeAppTokens(): void;
  /** An OU administrator disables (1) or enables (0) an account. */
  setUserState(name: string, state: 0 | 1): void;
  /** An OU administrator deletes an account. */
  deleteUser(name: string): void;
}

interface Locals {
  requestId: string;
  rawBody: string;
  json: unknown;
}

const locals = (res: Response): Locals => res.locals as Locals;

/** `Authorization` carries the session id, bare or as a bearer token (both appear in the docs). */
function sessionIdOf(req: Request): string | undefined {
  const header = req.get('authorization')?.trim();
  if (!header) return undefined;
  const id = header.replace(/^Bearer\s+/i, '').trim();
  return id === '' ? undefined : id;
}

/** The documented `paramsData`: query parameters sorted by name, `name + value` each, then the raw body. */
function paramsDataOf(req: Request, rawBody: string): string {
  const query = new URL(req.originalUrl, 'http://stand-in.invalid').searchParams;
  const names = [...new Set(query.keys())].sort();
  return names.map((name) => `${name}${query.get(name) ?? ''}`).join('') + rawBody;
}

export function createStandInApp(seed: PreparedSeed, clock: () => Date): { app: express.Express; hooks: StandInHooks } {
  const faults = new Faults();
  const tokens = new AppTokens(seed.apps, seed.policy.appTokenTtlSeconds, clock);
  const sessions = new SessionStore(clock);
  const login = new LoginService(seed, sessions, clock);
  const counts = new Map<string, number>();

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Everything below is counted and subject to injected faults.
  app.use((req, res, next) => {
    counts.set(req.path, (counts.get(req.path) ?? 0) + 1);
    locals(res).requestId = newRequestId();
    next();
  });

  // The raw text is kept because the APIM signature covers the body byte for byte.
  app.use(express.text({ type: () => true, limit: '64kb' }));
  app.use((req, res, next) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    locals(res).rawBody = raw;
    try {
      locals(res).json = raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
    } catch {
      res.status(400).json(gatewayError(ApimStatus.invalidParameter, 'Invalid parameter: the request body is not JSON', locals(res).requestId));
      return;
    }
    next();
  });

  // Test and local-stack control; registered before the fault middleware so it is never faulted.
  app.post('/_stand-in/faults', (_req, res) => {
    const body = locals(res).json as { failNext?: number; status?: number; mode?: FailOptions['mode']; path?: string; delayNext?: number; delayMs?: number };
    if (body.failNext) faults.failNext(body.failNext, { status: body.status, mode: body.mode, path: body.path });
    if (body.delayNext && body.delayMs) faults.delayNext(body.delayNext, body.delayMs, { path: body.path });
    res.status(204).end();
  });
  app.delete('/_stand-in/faults', (_req, res) => {
    faults.reset();
    res.status(204).end();
  });

  app.use(faults.middleware);

  app.post(PATHS.tokenGet, (_req, res) => {
    const answer = tokens.issue(locals(res).json);
    res.json(answer.ok ? tokenOk(answer.accessToken, answer.expire) : tokenError(answer.status, answer.msg));
  });

  app.post(PATHS.tokenRefresh, (_req, res) => {
    const answer = tokens.refresh(locals(res).json);
    res.json(answer.ok ? tokenOk(answer.accessToken, answer.expire) : tokenError(answer.status, answer.msg));
  });

  // The gateway in front of the IAM service: app token and request signature first.
  app.use('/enos-iam-service', (req, res, next) => {
    if (!seed.policy.requireAppToken) {
      next();
      return;
    }
    const verdict = tokens.verify(
      { accessToken: req.get('apim-accesstoken'), signature: req.get('apim-signature'), timestamp: req.get('apim-timestamp') },
      paramsDataOf(req, locals(res).rawBody),
    );
    if (verdict.ok) next();
    else res.status(401).json(gatewayError(verdict.status, verdict.msg, locals(res).requestId));
  });

  app.post(PATHS.login, async (_req, res) => {
    const { requestId, json } = locals(res);
    const result = await login.login(json);
    res.json(result.ok ? iamOk({ captcha: '', session: login.describe(result.session) }, requestId) : iamError(result.status, result.message, requestId));
  });

  const withSession = (handler: (sessionId: string, req: Request, res: Response) => void) => (req: Request, res: Response) => {
    const { requestId } = locals(res);
    const sessionId = sessionIdOf(req);
    if (sessionId === undefined) {
      res.json(iamError(IamStatus.invalidBearer, 'The provided bearer token is not valid.', requestId));
      return;
    }
    handler(sessionId, req, res);
  };
  const sessionNotFound = (res: Response) => res.json(iamError(IamStatus.notFound, 'The session information is not found.', locals(res).requestId));

  app.post(
    PATHS.sessionInfo,
    withSession((sessionId, _req, res) => {
      const session = sessions.get(sessionId);
      if (session === undefined) sessionNotFound(res);
      else res.json(iamOk({ session: login.describe(session) }, locals(res).requestId));
    }),
  );

  app.post(
    PATHS.sessionRefresh,
    withSession((sessionId, _req, res) => {
      const { expireInterval } = locals(res).json as { expireInterval?: unknown };
      const session = sessions.refresh(sessionId, expireInterval === undefined ? undefined : clampExpireInterval(expireInterval, seed.policy.defaultExpireInterval));
      if (session === undefined) sessionNotFound(res);
      else res.json(iamOk({ session: login.describe(session) }, locals(res).requestId));
    }),
  );

  // Logging out twice, or after expiry, is not an error: the session is gone either way.
  app.post(
    PATHS.logout,
    withSession((sessionId, _req, res) => {
      sessions.delete(sessionId);
      res.json(iamOk({}, locals(res).requestId));
    }),
  );

  app.post(
    PATHS.userOrganizations,
    withSession((sessionId, _req, res) => {
      const session = sessions.get(sessionId);
      if (session === undefined) sessionNotFound(res);
      else res.json(iamOk({ organizations: login.organizationsOf(session) }, locals(res).requestId));
    }),
  );

  // List Users: no user session, only the app token the gateway checked above. The app must hold
  // the OU's administrator policy in real EnOS; the stand-in's demo app holds it everywhere.
  app.get(PATHS.listUsers, (req, res) => {
    const { requestId } = locals(res);
    const orgId = typeof req.query.orgId === 'string' ? req.query.orgId : '';
    if (!seed.organizations.has(orgId)) {
      res.json(iamError(IamStatus.notFound, 'The organization does not exist.', requestId));
      return;
    }
    res.json(iamOk({ userWithLoginTime: login.usersOf(orgId) }, requestId));
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json(gatewayError(404, `No API is published at ${req.method} ${req.path}`, locals(res).requestId ?? newRequestId()));
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    const message = status < 500 ? `Invalid request: ${(error as Error).message}` : 'Internal error in the EnOS stand-in';
    res.status(status).json(gatewayError(status < 500 ? ApimStatus.invalidParameter : status, message, locals(res).requestId ?? newRequestId()));
  });

  return {
    app,
    hooks: {
      faults,
      requestCount: (path) => counts.get(path) ?? 0,
      activeSession: (id) => sessions.get(id) !== undefined,
      revokeAppTokens: () => tokens.revokeAll(),
      setUserState: (name, state) => {
        const user = seed.users.get(name);
        if (user === undefined) throw new Error(`EnOS stand-in: no user ${name}`);
        user.state = state;
      },
      deleteUser: (name) => {
        if (!seed.users.delete(name)) throw new Error(`EnOS stand-in: no user ${name}`);
      },
    },
  };
}

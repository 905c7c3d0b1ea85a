/**
 * Who a user is, according to EnOS. `login` sends the user's EnOS account to the IAM Log In API
 * (`POST /enos-iam-service/v2.0/login`) through the APIM gateway and turns the session it returns
 * into an `EnosIdentity`; the connector then issues its own session token and never stores the
 * password. Every failure is translated here: any refused credential becomes one generic
 * `invalid_credentials`, anything that keeps EnOS from answering becomes `identity_unavailable`,
 * and the details (never the password or a token) go to the log and the error's cause.
 */
import { AppError } from '../errors.js';
import { createAppTokenSource, type AppTokenSource } from './enos-app-token.js';
import { createEnosTransport, type EnosReply, type WarnLogger } from './enos-http.js';
import {
  APIM_TOKEN_EXPIRED,
  CREDENTIAL_REJECTIONS,
  gatewayStatusOf,
  iamEnvelopeSchema,
  iamSessionSchema,
  iamUserListSchema,
  isIamSuccess,
  type IamSession,
} from './enos-iam-replies.js';

export interface EnosIdentity {
  userId: string;
  userName: string;
  organizationId: string;
  organizationName?: string;
  enosSessionId: string;
  enosSessionExpiresAt: Date;
}

export interface IdentityProvider {
  /**
   * @throws AppError `invalid_credentials` (401) for any refused credential; `password_expired` or
   * `account_disabled` (403) for a right password on an account that cannot sign in;
   * `identity_unavailable` (503) when EnOS cannot answer.
   */
  login(username: string, password: string): Promise<EnosIdentity>;
  /** Ends the EnOS session; best effort, never throws. */
  logout(identity: Pick<EnosIdentity, 'enosSessionId'>): Promise<void>;
  /** @throws AppError `not_ready` when the IAM service cannot be reached through the gateway. */
  checkReady(): Promise<void>;
}

/** What EnOS says about an organization's accounts: user id → state; an id not in the map is gone. */
export type AccountStates = ReadonlyMap<string, 'active' | 'disabled'>;

export interface AccountDirectory {
  /** @throws AppError `identity_unavailable` when EnOS cannot (or will not) say. */
  organizationAccounts(organizationId: string): Promise<AccountStates>;
}

export interface EnosIdentityOptions {
  /** The APIM gateway, e.g. `https://apim-eu2.envisioniot.com` (ENOS_BASE_URL). */
  baseUrl: string;
  /** The connector's registered app; when given, every IAM call carries a signed app token. */
  appKey?: string;
  appSecret?: string;
  /** Time limit of one HTTP attempt. */
  timeoutMs: number;
  /** Extra attempts after a transient failure (network error, timeout, 429, 5xx). */
  maxRetries: number;
  /** Sent as `expireInterval`; EnOS clamps it to [900, 864000] s. @default EnOS decides */
  expireIntervalSeconds?: number;
  fetch?: typeof fetch;
  clock?: () => Date;
  logger?: WarnLogger;
}

export const IAM_PATHS = {
  login: '/enos-iam-service/v2.0/login',
  /** List Users (IAM 2.4): needs the OU's administrator policy on the connector's EnOS application. */
  listUsers: '/enos-iam-service/v2.4/open/user/logintime/list',
  sessionInfo: '/enos-iam-service/v2.0/session/info',
  /** Not in the public IAM reference (see scripts/enos-stand-in/README.md); used best effort. */
  logout: '/enos-iam-service/v2.0/logout',
} as const;

const MAX_USERNAME_LENGTH = 256;
const MAX_PASSWORD_LENGTH = 1024;

/** Documented Log In codes (see enos-iam-replies.ts). */
const IAM_PASSWORD_EXPIRED = 30410;
const IAM_ACCOUNT_DISABLED = 30511;

const passwordExpired = () =>
  new AppError('password_expired', 403, 'Your EnOS password has expired. Change it in the EnOS portal, then sign in here again.');
const accountDisabled = () =>
  new AppError('account_disabled', 403, "Your EnOS account is disabled. Ask your organization's EnOS administrator to enable it.");
const invalidCredentials = (cause?: unknown) => new AppError('invalid_credentials', 401, 'Invalid username or password.', { cause });
const unavailable = (cause: unknown) =>
  new AppError('identity_unavailable', 503, 'EnOS sign-in is unavailable right now. Please try again in a moment.', { cause });

export function createEnosIdentityProvider(options: EnosIdentityOptions): IdentityProvider & AccountDirectory {
  if ((options.appKey === undefined) !== (options.appSecret === undefined)) {
    throw new Error('EnOS identity: appKey and appSecret go together; got only one of them');
  }
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger;
  const base = options.baseUrl.replace(/\/+$/, '');
  const transport = createEnosTransport({
    baseUrl: base,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    fetch: options.fetch ?? globalThis.fetch,
    logger,
  });
  const tokens: AppTokenSource | undefined =
    options.appKey !== undefined && options.appSecret !== undefined
      ? createAppTokenSource({ appKey: options.appKey, appSecret: options.appSecret }, transport, clock, logger)
      : undefined;

  /** One IAM call; a gateway "token expired" earns one fresh app token and one more try. */
  async function callIam(path: string, payload: object | undefined, headers: Record<string, string>, retries?: number, method?: 'GET'): Promise<EnosReply> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const url = new URL(`${base}${path}`);
    for (let renewed = false; ; renewed = true) {
      const reply = await transport.post(path, async () => ({ body, headers: { ...headers, ...(tokens ? await tokens.sign(url, body) : {}) }, ...(method ? { method } : {}) }), retries);
      if (tokens !== undefined && !renewed && gatewayStatusOf(reply.httpStatus, reply.body) === APIM_TOKEN_EXPIRED) {
        tokens.invalidate();
        continue;
      }
      return reply;
    }
  }

  /** Why an answer is not a usable IAM envelope, for the log and the error cause. */
  function describeUnusable(path: string, reply: EnosReply): string {
    const gateway = gatewayStatusOf(reply.httpStatus, reply.body);
    if (gateway !== undefined) return `the EnOS gateway refused the connector's call to ${path} (HTTP ${reply.httpStatus}, APIM status ${gateway}); check ENOS_APP_KEY/ENOS_APP_SECRET`;
    return `EnOS answered ${path} with HTTP ${reply.httpStatus} and no IAM envelope`;
  }

  function toIdentity(session: IamSession): EnosIdentity {
    const organization = session.workingOrganization ?? session.residentOrganization;
    const organizationId = organization?.id ?? session.user.organizationId ?? undefined;
    if (organizationId === undefined) throw new Error('the EnOS session names no organization');
    return {
      userId: session.user.id,
      userName: session.user.name,
      organizationId,
      ...(organization?.name ? { organizationName: organization.name } : {}),
      enosSessionId: session.id,
      // Counted from our own clock: EnOS's refreshTime is on its clock, which may be skewed.
      enosSessionExpiresAt: new Date(clock().getTime() + session.expires * 1000),
    };
  }

  return {
    async login(username, password) {
      if (username.trim() === '' || password === '' || username.length > MAX_USERNAME_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
        throw invalidCredentials();
      }
      let reply: EnosReply;
      try {
        reply = await callIam(
          IAM_PATHS.login,
          {
            authType: 0,
            principal: username,
            credentials: password,
            ...(options.expireIntervalSeconds === undefined ? {} : { expireInterval: options.expireIntervalSeconds }),
          },
          {},
        );
      } catch (error) {
        logger?.warn({ path: IAM_PATHS.login, reason: (error as Error).message }, 'EnOS login could not be completed');
        throw unavailable(error);
      }

      const envelope = iamEnvelopeSchema.safeParse(reply.body);
      if (!envelope.success) {
        const reason = describeUnusable(IAM_PATHS.login, reply);
        logger?.warn({ path: IAM_PATHS.login, httpStatus: reply.httpStatus }, reason);
        throw unavailable(new Error(reason));
      }
      const { status, requestId } = envelope.data;
      if (!isIamSuccess(envelope.data)) {
        // EnOS checks these only once the password was right: they are about the account, so
        // they get their own message (the user can act on it) and are not guesses.
        if (status === IAM_PASSWORD_EXPIRED) throw passwordExpired();
        if (status === IAM_ACCOUNT_DISABLED) throw accountDisabled();
        const rejection = CREDENTIAL_REJECTIONS.get(status);
        if (rejection !== undefined) throw invalidCredentials(new Error(`EnOS refused the login: ${status} (${rejection})`));
        const reason = `EnOS login failed with status ${status}: ${envelope.data.message ?? ''}`;
        logger?.warn({ path: IAM_PATHS.login, httpStatus: reply.httpStatus, status, requestId }, reason);
        throw unavailable(new Error(reason));
      }
      const session = iamSessionSchema.safeParse(envelope.data.session);
      try {
        if (!session.success) throw new Error(`the EnOS login session does not have the documented shape: ${session.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
        return toIdentity(session.data);
      } catch (error) {
        logger?.warn({ path: IAM_PATHS.login, requestId, reason: (error as Error).message }, 'EnOS login answer is unusable');
        throw unavailable(error);
      }
    },

    async logout(identity) {
      try {
        const reply = await callIam(IAM_PATHS.logout, undefined, { authorization: identity.enosSessionId }, 0);
        const envelope = iamEnvelopeSchema.safeParse(reply.body);
        if (!envelope.success || !isIamSuccess(envelope.data)) {
          logger?.warn({ path: IAM_PATHS.logout, httpStatus: reply.httpStatus, status: envelope.data?.status }, 'EnOS logout was not confirmed; the EnOS session will expire on its own');
        }
      } catch (error) {
        logger?.warn({ path: IAM_PATHS.logout, reason: (error as Error).message }, 'EnOS logout failed; the EnOS session will expire on its own');
      }
    },

    async organizationAccounts(organizationId) {
      const path = `${IAM_PATHS.listUsers}?${new URLSearchParams({ orgId: organizationId }).toString()}`;
      let reply: EnosReply;
      try {
        reply = await callIam(path, undefined, {}, undefined, 'GET');
      } catch (error) {
        throw unavailable(error);
      }
      const envelope = iamEnvelopeSchema.safeParse(reply.body);
      if (!envelope.success) throw unavailable(new Error(describeUnusable(IAM_PATHS.listUsers, reply)));
      if (!isIamSuccess(envelope.data)) {
        // E.g. the connector's EnOS application lacks the OU's administrator policy.
        throw unavailable(new Error(`EnOS List Users for ${organizationId} failed with status ${envelope.data.status}: ${envelope.data.message ?? ''}`));
      }
      const users = iamUserListSchema.safeParse(reply.body);
      if (!users.success) throw unavailable(new Error(`EnOS List Users answer does not have the documented shape: ${users.error.message}`));
      return new Map(users.data.userWithLoginTime.map((user) => [user.id, user.state === 0 ? 'active' : 'disabled'] as const));
    },

    // Get Session Information without a session: any IAM answer (30401 is the expected one) proves
    // that the gateway, our app token and the IAM service all work, and it creates nothing.
    async checkReady() {
      let reply: EnosReply;
      try {
        reply = await callIam(IAM_PATHS.sessionInfo, undefined, {}, 0);
      } catch (error) {
        throw new AppError('not_ready', 503, 'EnOS identity service is not reachable', { cause: error });
      }
      if (!iamEnvelopeSchema.safeParse(reply.body).success) {
        throw new AppError('not_ready', 503, 'EnOS identity service is not reachable', { cause: new Error(describeUnusable(IAM_PATHS.sessionInfo, reply)) });
      }
    },
  };
}

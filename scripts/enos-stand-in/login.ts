/**
 * The IAM Log In rules and the documented Session/User structs. Checks run in the order that
 * reveals least: the lockout first (so a locked account cannot be probed), then the password,
 * and only for a correct password whether the account is disabled or its password expired.
 */
import { IamStatus } from './envelopes.js';
import { verifyAgainstDummy, verifyPassword } from './passwords.js';
import { EXPIRE_INTERVAL_MAX_SECONDS, EXPIRE_INTERVAL_MIN_SECONDS, type PreparedSeed, type SeedOrganization, type StandInUser } from './seed.js';
import type { SessionStore, StandInSession } from './sessions.js';

export type LoginResult = { ok: true; session: StandInSession } | { ok: false; status: number; message: string };

/** Documented: values below 900 become 900, above 864000 become 864000. */
export function clampExpireInterval(value: unknown, fallback: number): number {
  const seconds = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(seconds)) return fallback;
  return Math.min(EXPIRE_INTERVAL_MAX_SECONDS, Math.max(EXPIRE_INTERVAL_MIN_SECONDS, Math.trunc(seconds)));
}

/** The `YYYY-MM-DD HH:mm:ss.0` form the docs show for user creation times. */
const docTime = (date: Date): string => `${date.toISOString().slice(0, 19).replace('T', ' ')}.0`;

interface FailureRecord {
  count: number;
  lockedUntilMs: number;
}

export class LoginService {
  private readonly failures = new Map<string, FailureRecord>();
  private readonly createdAt: string;

  constructor(
    private readonly seed: PreparedSeed,
    private readonly sessions: SessionStore,
    private readonly clock: () => Date,
  ) {
    this.createdAt = docTime(clock());
  }

  async login(body: unknown): Promise<LoginResult> {
    const { authType, principal, credentials, expireInterval } = (body ?? {}) as Record<string, unknown>;
    if (authType === 1 || authType === '1') {
      return { ok: false, status: IamStatus.notFound, message: 'The LDAP connection does not exist.' };
    }
    if ((authType !== 0 && authType !== '0') || typeof principal !== 'string' || principal === '' || typeof credentials !== 'string' || credentials === '') {
      return { ok: false, status: IamStatus.badCredentials, message: 'authType (0), principal and credentials are required.' };
    }
    const now = this.clock().getTime();
    const record = this.failures.get(principal);
    if (record !== undefined && record.lockedUntilMs > now) {
      return { ok: false, status: IamStatus.tooManyFailures, message: 'The login failure times of the account has reached the limit. Please try again later.' };
    }

    const user = this.seed.users.get(principal);
    const passwordOk = user === undefined ? await verifyAgainstDummy(credentials) : await verifyPassword(credentials, user.passwordHash);
    if (user === undefined || !passwordOk) {
      if (user !== undefined) this.recordFailure(principal, now);
      return { ok: false, status: IamStatus.badCredentials, message: 'The user account or password is not correct.' };
    }
    this.failures.delete(principal);
    if (user.state === 1) return { ok: false, status: IamStatus.accountDisabled, message: 'The user account is disabled.' };
    if (user.passwordExpireTime !== undefined && user.passwordExpireTime.getTime() <= now) {
      return { ok: false, status: IamStatus.passwordExpired, message: 'The password has expired.' };
    }
    const expires = clampExpireInterval(expireInterval, this.seed.policy.defaultExpireInterval);
    return { ok: true, session: this.sessions.create(user.name, user.organizationId, expires) };
  }

  /** The documented Session Struct, with the documented User Struct inside. */
  describe(session: StandInSession) {
    const user = this.userOf(session);
    return {
      id: session.id,
      expires: session.expires,
      createTime: session.createTime,
      refreshTime: session.refreshTime,
      status: 1,
      ssoLogin: false,
      user: this.describeUser(user),
      residentOrganization: this.orgRef(user.organizationId),
      workingOrganization: this.orgRef(session.workingOrganizationId),
    };
  }

  /** List User Organization: the resident organization first, then the guest ones. */
  organizationsOf(session: StandInSession) {
    const user = this.userOf(session);
    return [user.organizationId, ...user.guestOrganizationIds].map((id) => {
      const org = this.organization(id);
      return { id: org.id, name: org.name, domain: org.domain ?? '', description: '', state: 0, type: 2, code: '' };
    });
  }

  /** List Users: the OU's residents and guests, with the documented User Struct fields. */
  usersOf(organizationId: string) {
    return [...this.seed.users.values()]
      .filter((user) => user.organizationId === organizationId || user.guestOrganizationIds.includes(organizationId))
      .map((user) => ({
        id: user.id,
        name: user.name,
        email: user.email,
        emailVerified: user.email !== '',
        phoneArea: '',
        phone: '',
        phoneVerified: false,
        organizationId: user.organizationId,
        state: user.state,
        domain: '',
        authType: 0,
        createTime: this.createdAt.slice(0, 19),
        description: user.description,
        passwordExpireTime: user.passwordExpireTime?.getTime() ?? null,
        lastLoginTime: null,
        updateTime: this.createdAt.slice(0, 19),
      }));
  }

  private describeUser(user: StandInUser) {
    return {
      id: user.id,
      organizationId: user.organizationId,
      authType: 0,
      name: user.name,
      domain: this.organization(user.organizationId).domain,
      phoneArea: '',
      phone: '',
      phoneVerified: false,
      phoneVerifiedAt: null,
      email: user.email,
      emailVerified: user.email !== '',
      emailVerifiedAt: null,
      description: user.description,
      extra: null,
      resourceId: `r-${user.id}`,
      type: user.type,
      state: user.state,
      mfaType: 0,
      passwordState: 0,
      passwordExpireTime: user.passwordExpireTime?.getTime() ?? null,
      passwordStrength: 0,
      createTime: this.createdAt,
      createdByUserId: null,
      guestOrganizations: user.guestOrganizationIds.length === 0 ? null : user.guestOrganizationIds.map((id) => this.orgRef(id)),
    };
  }

  private orgRef(id: string) {
    const org = this.organization(id);
    return { id: org.id, name: org.name, domain: org.domain };
  }

  private organization(id: string): SeedOrganization {
    const org = this.seed.organizations.get(id);
    // The seed schema guarantees every referenced organization exists.
    if (org === undefined) throw new Error(`EnOS stand-in: organization ${id} vanished from the seed`);
    return org;
  }

  private userOf(session: StandInSession): StandInUser {
    const user = this.seed.users.get(session.userName);
    if (user === undefined) throw new Error(`EnOS stand-in: user ${session.userName} vanished from the seed`);
    return user;
  }

  private recordFailure(principal: string, now: number): void {
    const record = this.failures.get(principal) ?? { count: 0, lockedUntilMs: 0 };
    record.count += 1;
    if (record.count >= this.seed.policy.maxFailedLogins) {
      record.count = 0;
      record.lockedUntilMs = now + this.seed.policy.lockoutSeconds * 1000;
    }
    this.failures.set(principal, record);
  }
}

/**
 * IAM login sessions, in memory. A session lives `expires` seconds after its last refresh
 * (`refreshTime + expires`), which is how the documented Session Struct reads: `expires` is an
 * interval (7200 in the samples) next to epoch-second `createTime` and `refreshTime`.
 */
import { randomBytes } from 'node:crypto';

export interface StandInSession {
  id: string;
  userName: string;
  workingOrganizationId: string;
  expires: number;
  createTime: number;
  refreshTime: number;
}

const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

export class SessionStore {
  private readonly sessions = new Map<string, StandInSession>();

  constructor(private readonly clock: () => Date) {}

  create(userName: string, workingOrganizationId: string, expires: number): StandInSession {
    this.sweep();
    const now = epochSeconds(this.clock());
    // Same look as the documented samples: an IAM_S_ prefix and a long opaque alphanumeric id.
    const id = `IAM_S_${randomBytes(48).toString('base64url').replace(/[-_]/g, '')}`;
    const session = { id, userName, workingOrganizationId, expires, createTime: now, refreshTime: now };
    this.sessions.set(id, session);
    return session;
  }

  /** The live session with this id, or undefined when it is unknown, expired or logged out. */
  get(id: string): StandInSession | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (this.isExpired(session)) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** Restarts the session's lifetime from now; a new interval replaces the old one when given. */
  refresh(id: string, expires?: number): StandInSession | undefined {
    const session = this.get(id);
    if (session === undefined) return undefined;
    session.refreshTime = epochSeconds(this.clock());
    if (expires !== undefined) session.expires = expires;
    return session;
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  private isExpired(session: StandInSession): boolean {
    return epochSeconds(this.clock()) >= session.refreshTime + session.expires;
  }

  /** Drops expired sessions so a long-running local stack does not accumulate them. */
  private sweep(): void {
    for (const session of this.sessions.values()) {
      if (this.isExpired(session)) this.sessions.delete(session.id);
    }
  }
}

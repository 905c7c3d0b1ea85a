/**
 * Who is calling, as every use case sees it: the signed-in user (from a session token or a
 * personal access token) plus what the HTTP layer knows about the call, for the audit trail.
 */
import { createHash } from 'node:crypto';
import type { AuditActor } from '../audit/audit-event.js';
import type { SessionUser } from './session-tokens.js';

/** Stable, storage-safe owner id: a user is scoped to the organization they signed in with. */
export function ownerIdOf(user: Pick<SessionUser, 'userId' | 'organizationId'>): string {
  return createHash('sha256').update(`${user.organizationId}\n${user.userId}`).digest('base64url').slice(0, 24);
}

/** A user as the use cases receive it; the call details are there when the call came over HTTP. */
export type Principal = SessionUser & Partial<Pick<AuditActor, 'via' | 'tokenId' | 'clientAddress' | 'requestId'>>;

/** The audit actor of a principal (a plain SessionUser counts as a session call). */
export function actorOf(user: Principal): AuditActor {
  const actor: AuditActor = {
    organizationId: user.organizationId,
    ownerId: ownerIdOf(user),
    userId: user.userId,
    userName: user.userName,
    via: user.via ?? 'session',
  };
  if (user.tokenId !== undefined) actor.tokenId = user.tokenId;
  if (user.clientAddress !== undefined) actor.clientAddress = user.clientAddress;
  if (user.requestId !== undefined) actor.requestId = user.requestId;
  return actor;
}

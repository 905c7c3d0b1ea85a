/**
 * The connector's way into the audit store. Every event is appended to the durable store *and*
 * written to the log (line `audit`, the event under `audit`), so the platform team finds it in
 * Application Insights too.
 *
 * Two ways to record, chosen by what is at stake:
 * - `record` fails closed: it resolves only once the event is stored and throws AppError 503
 *   otherwise. Used before anything that grants data or access (an export is submitted, a link
 *   renewed, a token made, a stable link served): no audit record, no data.
 * - `note` never throws: for refusals, failures and things that already happened (a sign-in
 *   failed, an export was deleted). If the store is down, the log line is the record, and the
 *   error is logged next to it.
 */
import type { Logger } from '../logger.js';
import { newAuditEventId, type AuditActor, type AuditEvent, type NewAuditEvent } from './audit-event.js';
import type { AuditStore } from './audit-store.js';

export interface AuditTrailOptions {
  store: AuditStore;
  logger: Logger;
  clock?: () => Date;
  /** Events older than this are purged. @default 400 */
  retentionDays?: number;
}

export class AuditTrail {
  private readonly clock: () => Date;
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AuditTrailOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  get store(): AuditStore {
    return this.options.store;
  }

  private complete(event: NewAuditEvent): AuditEvent {
    const at = this.clock();
    return { outcome: 'success', organizationId: '', via: 'system', ...event, id: newAuditEventId(at), at };
  }

  private log(event: AuditEvent): void {
    this.options.logger.info({ audit: { ...event, at: event.at.toISOString() } }, 'audit');
  }

  async record(event: NewAuditEvent): Promise<AuditEvent> {
    const complete = this.complete(event);
    this.log(complete);
    await this.options.store.append([complete]);
    return complete;
  }

  /** Best effort: resolves when stored or when the failure is logged; never rejects. */
  async note(event: NewAuditEvent): Promise<void> {
    const complete = this.complete(event);
    this.log(complete);
    try {
      await this.options.store.append([complete]);
    } catch (error) {
      this.options.logger.error({ err: error, auditEventId: complete.id }, 'could not append an audit event; the log line above is its record');
    }
  }

  /** Deletes events past the retention; safe on every instance at once. */
  async purgeExpired(): Promise<number> {
    const days = this.options.retentionDays ?? 400;
    const purged = await this.options.store.purge(new Date(this.clock().getTime() - days * 86_400_000));
    if (purged > 0) this.options.logger.info({ purged, retentionDays: days }, 'audit events past their retention purged');
    return purged;
  }

  /** Runs the retention purge now and then every `intervalMs`. */
  startRetention(intervalMs: number): void {
    const run = () => void this.purgeExpired().catch((error: unknown) => this.options.logger.error({ err: error }, 'audit retention purge failed'));
    run();
    this.retentionTimer = setInterval(run, intervalMs);
    this.retentionTimer.unref();
  }

  stop(): void {
    clearInterval(this.retentionTimer);
  }
}

/** The actor fields of an event, from whatever the caller knows about who acted. */
export function actorFields(actor: AuditActor): Pick<AuditEvent, 'organizationId' | 'ownerId' | 'userId' | 'userName' | 'via' | 'tokenId' | 'clientAddress' | 'requestId'> {
  const fields: ReturnType<typeof actorFields> = { organizationId: actor.organizationId, via: actor.via };
  if (actor.ownerId !== undefined) fields.ownerId = actor.ownerId;
  if (actor.userId !== undefined) fields.userId = actor.userId;
  if (actor.userName !== undefined) fields.userName = actor.userName;
  if (actor.tokenId !== undefined) fields.tokenId = actor.tokenId;
  if (actor.clientAddress !== undefined) fields.clientAddress = actor.clientAddress;
  if (actor.requestId !== undefined) fields.requestId = actor.requestId;
  return fields;
}

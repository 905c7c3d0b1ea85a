/**
 * Every export the cleanup deletes is an audit event, `export.cleanup_deleted`: logged, one line
 * each, always; and, when the connector keeps its audit trail in Table Storage (AUDIT_TABLE_NAME),
 * appended there in the connector's own layout (app/src/audit/table-audit-entity.ts, imported,
 * so the two cannot drift), where GET /api/v1/audit shows it to the owner and their auditors.
 *
 * A blob is named `<ownerId>/<jobId>/<file>`, and the blobs of one export (the parts and the
 * MLTable of a multi-part one) make one event; the organization the event is kept under comes from
 * the job's entity in the job table when there is one (the job is still there: it is marked
 * expired, never deleted, by this run). Without it the event is kept under no organization.
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { newAuditEventId, type AuditEvent } from '../../app/src/audit/audit-event.js';
import { toAuditEntity } from '../../app/src/audit/table-audit-entity.js';
import type { PassContext } from './pass-context.js';
import { BoundedPool } from './pool.js';
import { describeError } from './retry.js';

const BLOB_NAME = /^([^/]+)\/([^/]+)\/([^/]+)$/;
/** The service's limit on one entity-group transaction. */
const TRANSACTION_LIMIT = 100;

interface JobFacts {
  organizationId?: string;
  ownerName?: string;
}

async function jobFacts(ctx: PassContext, jobs: TableClient | undefined, ownerId: string, jobId: string): Promise<JobFacts> {
  if (!jobs) return {};
  try {
    const entity = await ctx.retrier.run((abortSignal) => jobs.getEntity<JobFacts>(ownerId, jobId, { abortSignal }));
    return { organizationId: entity.organizationId, ownerName: entity.ownerName };
  } catch {
    // The job is gone or unreadable: the event is still worth keeping, under no organization.
    return {};
  }
}

/**
 * The deleted blobs by export: a multi-part export is several blobs (its parts and its MLTable,
 * all under `<ownerId>/<jobId>/`) but one export, so one event. A name of another shape is an
 * export of its own.
 */
function byExport(deleted: readonly string[]): { match: RegExpExecArray | null; names: string[] }[] {
  const groups = new Map<string, { match: RegExpExecArray | null; names: string[] }>();
  for (const name of deleted) {
    const match = BLOB_NAME.exec(name);
    const key = match ? `${match[1]!}/${match[2]!}/` : name;
    const group = groups.get(key) ?? { match, names: [] };
    group.names.push(name);
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => ({ ...group, names: group.names.sort() }));
}

export async function recordDeletions(ctx: PassContext, tables: { audit?: TableClient; jobs?: TableClient }, deleted: readonly string[], concurrency: number): Promise<void> {
  const events: AuditEvent[] = [];
  const pool = new BoundedPool(concurrency);
  for (const { match, names } of byExport(deleted)) {
    await pool.submit(async () => {
      const facts = match ? await jobFacts(ctx, tables.jobs, match[1]!, match[2]!) : {};
      const at = ctx.clock();
      const event: AuditEvent = {
        id: newAuditEventId(at),
        at,
        type: 'export.cleanup_deleted',
        outcome: 'success',
        organizationId: facts.organizationId ?? '',
        via: 'system',
        ...(match ? { ownerId: match[1]!, exportId: match[2]! } : {}),
        ...(facts.ownerName ? { userName: facts.ownerName } : {}),
        detail:
          names.length === 1
            ? `expired blob ${names[0]!} deleted by the cleanup function`
            : `${names.length} expired blobs of ${match![1]!}/${match![2]!}/ deleted by the cleanup function: ${names.map((name) => name.slice(name.lastIndexOf('/') + 1)).join(', ')}`,
      };
      events.push(event);
      ctx.log.log(`audit export.cleanup_deleted exportId=${event.exportId ?? '-'} ownerId=${event.ownerId ?? '-'} organizationId=${event.organizationId || '-'} blob=${names.join(',')}`);
    });
  }
  await pool.drain();
  const audit = tables.audit;
  if (!audit || events.length === 0) return;

  const byPartition = new Map<string, TransactionAction[]>();
  for (const event of events) {
    const entity = toAuditEntity(event);
    byPartition.set(entity.partitionKey, [...(byPartition.get(entity.partitionKey) ?? []), ['create', entity]]);
  }
  await audit.createTable().catch(() => undefined);
  for (const actions of byPartition.values()) {
    for (let i = 0; i < actions.length; i += TRANSACTION_LIMIT) {
      const slice = actions.slice(i, i + TRANSACTION_LIMIT);
      try {
        await ctx.retrier.run((abortSignal) => audit.submitTransaction(slice, { abortSignal }));
        ctx.summary.audited += slice.length;
      } catch (error) {
        // The log lines above are these events' record; the failure fails the run so it is seen.
        throw new Error(`could not append ${slice.length} audit events to ${audit.tableName}: ${describeError(error)}`);
      }
    }
  }
}

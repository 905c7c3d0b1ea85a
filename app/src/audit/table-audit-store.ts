/**
 * The audit trail in Azure Table Storage, for several connector instances (and the cleanup
 * function, which appends its deletions to the same table). Layout: table-audit-entity.ts.
 * Events of one organization that arrive together are appended in one entity-group transaction
 * (all or nothing, up to 100); there is no update, and deletes happen only in `purge`.
 */
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { deadlinePerCall } from '../deadline.js';
import { AppError } from '../errors.js';
import type { AuditStore } from './audit-store.js';
import { decodeType } from './sqlite-audit-store.js';
import { auditPartitionKey, fromAuditEntity, invertEventId, toAuditEntity } from './table-audit-entity.js';
import { listWithin, tableCalls } from '../table-calls.js';

export const DEFAULT_AUDIT_TABLE_NAME = 'auditevents';
/** The service's limit on one entity-group transaction. */
const TRANSACTION_LIMIT = 100;

export interface TableAuditStoreOptions {
  client: TableClient;
  /**
   * Deadline of each Table call (the SDK sets none); a page of the trail gets four times as long
   * for all its pages, the retention purge's listing twenty times. @default 15000
   */
  operationTimeoutMs?: number;
}

const idAt = (at: Date, fill: '0' | 'f') => `${String(at.getTime()).padStart(13, '0')}-${fill.repeat(16)}`;

export function createTableAuditStore(options: TableAuditStoreOptions): AuditStore {
  const { client } = options;
  const timeoutMs = options.operationTimeoutMs ?? 15_000;
  /** One Table call under a deadline of its own: a timer the store owns and clears (deadline.ts says why). */
  const timed = deadlinePerCall(timeoutMs);
  const { guarded, probe } = tableCalls(client, timed, (error) =>
    error instanceof AppError ? error : new AppError('storage_error', 503, 'The audit trail cannot be written or read right now.', { cause: error, retryAfterSeconds: 5 }),
  );

  return {
    append: (events) =>
      guarded(async () => {
        const byPartition = new Map<string, TransactionAction[]>();
        for (const event of events) {
          const entity = toAuditEntity(event);
          const actions = byPartition.get(entity.partitionKey) ?? [];
          actions.push(['create', entity]);
          byPartition.set(entity.partitionKey, actions);
        }
        for (const actions of byPartition.values()) {
          for (let i = 0; i < actions.length; i += TRANSACTION_LIMIT) {
            await timed((options) => client.submitTransaction(actions.slice(i, i + TRANSACTION_LIMIT), options));
          }
        }
      }),

    query: (query) =>
      guarded(async () => {
        const clauses = [odata`PartitionKey eq ${auditPartitionKey(query.organizationId)}`];
        if (query.after !== undefined) clauses.push(odata`RowKey gt ${invertEventId(query.after)}`);
        if (query.to !== undefined) clauses.push(odata`RowKey ge ${invertEventId(idAt(query.to, 'f'))}`);
        if (query.from !== undefined) clauses.push(odata`RowKey le ${invertEventId(idAt(query.from, '0'))}`);
        if (query.ownerId !== undefined) clauses.push(odata`ownerId eq ${query.ownerId}`);
        if (query.userName !== undefined) clauses.push(odata`userName eq ${query.userName}`);
        if (query.exportId !== undefined) clauses.push(odata`exportId eq ${query.exportId}`);
        if (query.types !== undefined && query.types.length > 0) {
          clauses.push(`(${query.types.map((type) => odata`type eq ${type}`).join(' or ')})`);
        }
        // All the pages it takes under one deadline, four calls long.
        return listWithin(client, timeoutMs * 4, { filter: clauses.join(' and ') }, (entity) => fromAuditEntity(entity, decodeType), {
          limit: query.limit,
          pageSize: Math.min(1000, query.limit),
        });
      }),

    purge: (before) =>
      guarded(async () => {
        const oldest = invertEventId(idAt(before, '0'));
        // The whole listing, every organization's old events, under one deadline twenty calls long;
        // each deleting transaction then has its own.
        const keys = await listWithin(client, timeoutMs * 20, { filter: odata`RowKey gt ${oldest}`, select: ['PartitionKey', 'RowKey'] }, (entity) => [entity.partitionKey!, entity.rowKey!] as const);
        const byPartition = new Map<string, string[]>();
        for (const [partitionKey, rowKey] of keys) {
          const rows = byPartition.get(partitionKey) ?? [];
          rows.push(rowKey);
          byPartition.set(partitionKey, rows);
        }
        let purged = 0;
        for (const [partitionKey, rowKeys] of byPartition) {
          for (let i = 0; i < rowKeys.length; i += TRANSACTION_LIMIT) {
            const slice = rowKeys.slice(i, i + TRANSACTION_LIMIT);
            await timed((options) => client.submitTransaction(slice.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]), options));
            purged += slice.length;
          }
        }
        return purged;
      }),

    async checkReady() {
      try {
        await probe();
      } catch (error) {
        throw new AppError('not_ready', 503, 'The audit trail cannot be reached.', { cause: error });
      }
    },

    async close() {},
  };
}

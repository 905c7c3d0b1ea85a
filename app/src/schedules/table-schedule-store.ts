/**
 * Schedules in Azure Table Storage, for several connector instances. All schedules share one
 * partition (`s`) so a schedule and its stable link's index entity (RowKey `link-<linkId>`,
 * holding the schedule id) change together in one entity-group transaction. A replace carries
 * `If-Match: <ETag>`: of two instances that read the same due schedule, the service accepts the
 * first write and answers the second 412 — the claim that makes a slot run once.
 * Schedule RowKeys are UUIDs (hex digits and '-'), so `RowKey lt 'link-'` keeps index entities out.
 */
import { odata, RestError, type TableClient, type TransactionAction } from '@azure/data-tables';
import { deadlinePerCall } from '../deadline.js';
import { AppError } from '../errors.js';
import { dataOf, decodeData, encodeData } from './schedule-json.js';
import type { NewSchedule, Schedule } from './schedule.js';
import type { ScheduleStore } from './schedule-store.js';
import { newestFirst } from './sqlite-schedule-store.js';
import { listWithin, tableCalls } from '../table-calls.js';

const PARTITION = 's';
const LINK_PREFIX = 'link-';
const ONLY_SCHEDULES = odata`PartitionKey eq ${PARTITION} and RowKey lt ${LINK_PREFIX}`;
/** A string property holds 64 KiB; the SQL (up to 50,000 characters) is split in pieces of 30,000. */
const SQL_CHUNK = 30_000;

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

function toEntity(schedule: NewSchedule): Entity {
  const entity: Entity = {
    partitionKey: PARTITION,
    rowKey: schedule.id,
    ownerId: schedule.ownerId,
    linkId: schedule.linkId,
    status: schedule.status,
    data: encodeData(dataOf(schedule)),
  };
  if (schedule.nextRunAt) entity.nextRunAt = schedule.nextRunAt;
  if (schedule.claim) entity.claimUntil = schedule.claim.until;
  for (let i = 0; i * SQL_CHUNK < schedule.sql.length; i++) entity[`sql${i}`] = schedule.sql.slice(i * SQL_CHUNK, (i + 1) * SQL_CHUNK);
  return entity;
}

function fromEntity(entity: Record<string, unknown>): Schedule {
  const id = String(entity.rowKey);
  let sql = '';
  for (let i = 0; typeof entity[`sql${i}`] === 'string'; i++) sql += entity[`sql${i}`] as string;
  const schedule: Schedule = {
    id,
    ownerId: String(entity.ownerId),
    linkId: String(entity.linkId),
    sql,
    status: entity.status === 'paused' ? 'paused' : 'active',
    version: String(entity.etag),
    ...decodeData(String(entity.data), id),
  };
  if (entity.nextRunAt instanceof Date) schedule.nextRunAt = entity.nextRunAt;
  return schedule;
}

const linkEntity = (schedule: Pick<Schedule, 'id' | 'ownerId' | 'linkId'>): Entity => ({
  partitionKey: PARTITION,
  rowKey: `${LINK_PREFIX}${schedule.linkId}`,
  scheduleId: schedule.id,
  ownerId: schedule.ownerId,
});

const statusOf = (error: unknown) => (error instanceof RestError ? error.statusCode : undefined);

export interface TableScheduleStoreOptions {
  client: TableClient;
  /**
   * Deadline of each Table call (the SDK sets none); a listing gets four times as long for all its
   * pages. The scheduler's tick waits for the due listing, a stable link for its lookup. @default 15000
   */
  operationTimeoutMs?: number;
}

export function createTableScheduleStore(options: TableScheduleStoreOptions): ScheduleStore {
  const { client } = options;
  const timeoutMs = options.operationTimeoutMs ?? 15_000;
  /** One Table call under a deadline of its own: a timer the store owns and clears (deadline.ts says why). */
  const timed = deadlinePerCall(timeoutMs);
  const { guarded, probe } = tableCalls(client, timed, (error) =>
    error instanceof AppError ? error : new AppError('storage_error', 503, 'Schedules cannot be read or written right now.', { cause: error, retryAfterSeconds: 5 }),
  );
  const read = async (id: string): Promise<Schedule | undefined> => {
    try {
      return fromEntity(await timed((options) => client.getEntity<Record<string, unknown>>(PARTITION, id, options)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };
  /** The ETag the write returned; should a response lack it, the stored entity's. */
  const versionAfter = async (id: string, etag: string | undefined): Promise<string> => etag ?? (await read(id))?.version ?? '';
  /** A listing, all its pages, under one deadline four calls long. */
  const query = (filter: string, limit = Infinity): Promise<Schedule[]> => listWithin(client, timeoutMs * 4, { filter }, fromEntity, { limit });

  return {
    create: (schedule) =>
      guarded(async () => {
        const response = await timed((options) => client.submitTransaction([['create', toEntity(schedule)], ['create', linkEntity(schedule)]], options));
        return { ...schedule, version: await versionAfter(schedule.id, response.getResponseForEntity(schedule.id)?.etag) };
      }),

    get: (ownerId, id) =>
      guarded(async () => {
        const schedule = await read(id);
        return schedule?.ownerId === ownerId ? schedule : undefined;
      }),

    getByLinkId: (linkId) =>
      guarded(async () => {
        let index: Record<string, unknown>;
        try {
          index = await timed((options) => client.getEntity<Record<string, unknown>>(PARTITION, `${LINK_PREFIX}${linkId}`, options));
        } catch (error) {
          if (statusOf(error) === 404) return undefined;
          throw error;
        }
        const schedule = await read(String(index.scheduleId));
        return schedule?.linkId === linkId ? schedule : undefined;
      }),

    listByOwner: (ownerId) => guarded(async () => (await query(`${ONLY_SCHEDULES} and ${odata`ownerId eq ${ownerId}`}`)).sort(newestFirst)),

    listDue: (now, limit) =>
      guarded(() => query(`${ONLY_SCHEDULES} and ((${odata`status eq ${'active'} and nextRunAt le ${now}`}) or ${odata`claimUntil le ${now}`})`, limit)),

    replace: (next) =>
      guarded(async () => {
        const current = await read(next.id);
        if (!current || current.ownerId !== next.ownerId || current.version !== next.version) return undefined;
        const entity = toEntity(next);
        try {
          if (current.linkId === next.linkId) {
            const response = await timed((options) => client.updateEntity(entity, 'Replace', { etag: next.version, ...options }));
            return { ...next, version: await versionAfter(next.id, response.etag) };
          }
          // A new stable link: the old index entity goes in the same transaction, so the old URL dies with the write.
          const actions: TransactionAction[] = [
            ['update', entity, 'Replace', { etag: next.version }],
            ['delete', { partitionKey: PARTITION, rowKey: `${LINK_PREFIX}${current.linkId}` }],
            ['create', linkEntity(next)],
          ];
          const response = await timed((options) => client.submitTransaction(actions, options));
          return { ...next, version: await versionAfter(next.id, response.getResponseForEntity(next.id)?.etag) };
        } catch (error) {
          // 412: another writer was first. 404: it was deleted meanwhile.
          if (statusOf(error) === 412 || statusOf(error) === 404) return undefined;
          throw error;
        }
      }),

    delete: (ownerId, id) =>
      guarded(async () => {
        const current = await read(id);
        if (!current || current.ownerId !== ownerId) return false;
        try {
          await timed((options) =>
            client.submitTransaction(
              [
                ['delete', { partitionKey: PARTITION, rowKey: id }],
                ['delete', { partitionKey: PARTITION, rowKey: `${LINK_PREFIX}${current.linkId}` }],
              ],
              options,
            ),
          );
        } catch (error) {
          if (statusOf(error) === 404) return false;
          throw error;
        }
        return true;
      }),

    async checkReady() {
      try {
        await probe();
      } catch (error) {
        throw new AppError('not_ready', 503, 'The schedule store cannot be reached.', { cause: error });
      }
    },

    async close() {},
  };
}

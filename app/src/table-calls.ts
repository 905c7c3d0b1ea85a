/**
 * What every store on Azure Table Storage does around its calls: make sure its table exists
 * (once per process: createTable is idempotent, so success is remembered and a failure is tried
 * again on the next call), and turn whatever the SDK throws into the store's own error at the
 * boundary, so callers see an AppError, never an SDK type; the readiness probe they share; and
 * a listing read whole under one deadline (`listWithin`).
 */
import { odata, type TableClient, type TableEntityQueryOptions, type TableEntityResult } from '@azure/data-tables';
import { withDeadline } from './deadline.js';

/** One SDK call under a deadline of its own (deadline.ts, `deadlinePerCall`). */
type Timed = <T>(call: (options: { abortSignal: AbortSignal }) => Promise<T>) => Promise<T>;

export interface TableCalls {
  /** Runs `work` once the table exists; any failure becomes `failed(error)`. */
  guarded<T>(work: () => Promise<T>): Promise<T>;
  /**
   * A readiness probe: the table exists and answers a one-row read (of a partition no entity
   * uses). Throws what the SDK threw; `abortSignal` replaces the per-call deadlines.
   */
  probe(abortSignal?: AbortSignal): Promise<void>;
}

export function tableCalls(client: TableClient, timed: Timed, failed: (error: unknown) => Error): TableCalls {
  let created: Promise<void> | undefined;
  /** Creates the table unless done already; `abortSignal` replaces the per-call deadline (a readiness probe's own). */
  const ensureTable = (abortSignal?: AbortSignal): Promise<void> =>
    (created ??= (abortSignal ? client.createTable({ abortSignal }) : timed((options) => client.createTable(options))).then(
      () => undefined,
      (error: unknown) => {
        created = undefined;
        throw error;
      },
    ));
  const queryOptions = { filter: odata`PartitionKey eq ${''}`, select: ['PartitionKey'] };
  const readOneRow = (options: { abortSignal: AbortSignal }) => client.listEntities({ queryOptions, ...options }).byPage({ maxPageSize: 1 }).next();
  return {
    async probe(abortSignal?: AbortSignal) {
      await ensureTable(abortSignal);
      await (abortSignal ? readOneRow({ abortSignal }) : timed(readOneRow));
    },
    async guarded<T>(work: () => Promise<T>): Promise<T> {
      try {
        await ensureTable();
        return await work();
      } catch (error) {
        throw failed(error);
      }
    },
  };
}

/**
 * What a listing yields, mapped, stopping once `limit` are found: every page it takes read under
 * one deadline of `ms`, which answers the caller at its end even if a page's request ignored the
 * abort. `pageSize` caps each request (the service's default is 1000).
 */
export function listWithin<T>(
  client: TableClient,
  ms: number,
  queryOptions: TableEntityQueryOptions,
  map: (entity: TableEntityResult<Record<string, unknown>>) => T,
  options: { limit?: number; pageSize?: number } = {},
): Promise<T[]> {
  const limit = options.limit ?? Infinity;
  return withDeadline(ms, async (abortSignal) => {
    const found: T[] = [];
    const pages = client.listEntities<Record<string, unknown>>({ queryOptions, abortSignal }).byPage(options.pageSize ? { maxPageSize: options.pageSize } : {});
    for await (const page of pages) {
      for (const entity of page) {
        found.push(map(entity));
        if (found.length >= limit) return found;
      }
    }
    return found;
  });
}

/**
 * What every store on Azure Table Storage does around its calls: make sure its table exists
 * (once per process: createTable is idempotent, so success is remembered and a failure is tried
 * again on the next call), and turn whatever the SDK throws into the store's own error at the
 * boundary, so callers see an AppError, never an SDK type; and the readiness probe they share.
 */
import { odata, type TableClient } from '@azure/data-tables';

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

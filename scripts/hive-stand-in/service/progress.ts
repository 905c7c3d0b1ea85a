/**
 * What HiveServer2 tells a client about a query while it runs on the cluster:
 *  - the in-place progress of GetOperationStatus(getProgressUpdate=true), as Hive on Tez fills
 *    TProgressUpdateResp (TezJobMonitor / RenderStrategy): one row per vertex under the headers
 *    VERTICES MODE STATUS TOTAL COMPLETED RUNNING PENDING FAILED KILLED (the name followed by
 *    dots for the part done), the fraction done (0–1), IN_PROGRESS or COMPLETE, and the footer
 *    `VERTICES: 01/02` (the bar and elapsed time beeline shows are drawn by beeline).
 *    A query without a job (a fetch task) has nothing to report: NOT_AVAILABLE.
 *  - the operation log (FetchResults with fetchType 1), the lines LogDivertAppender keeps at
 *    hive.server2.logging.operation.level=EXECUTION, as `INFO  : <message>`.
 * The stand-in's "job" is two vertices whose tasks complete as an injected execute delay runs.
 */
import { TOperationState, type OperationStateCode } from '../thrift/responses.js';
import { TTypeId, type ColumnPlan } from '../rowset/column-plan.js';
import { encodeLogReply } from '../rowset/rowset-encoder.js';
import type { EncodedMessage } from '../thrift/binary-protocol.js';

export const TJobExecutionStatus = { IN_PROGRESS: 0, COMPLETE: 1, NOT_AVAILABLE: 2 } as const;

export interface ProgressReport {
  headerNames: string[];
  rows: string[][];
  progressedPercentage: number;
  status: (typeof TJobExecutionStatus)[keyof typeof TJobExecutionStatus];
  footerSummary: string;
  startTime: number;
}

const HEADERS = ['VERTICES', 'MODE', 'STATUS', 'TOTAL', 'COMPLETED', 'RUNNING', 'PENDING', 'FAILED', 'KILLED'];
const VERTICES = [
  { name: 'Map 1', tasks: 20 },
  { name: 'Reducer 2', tasks: 1 },
];

export class TezProgress {
  /** Fraction of the job done, 0..1. */
  private done = 0;
  private dagStartMs: number | undefined;

  /** Runs `work` (an execute delay of `ms`) while the fraction advances with the time spent. */
  async during(ms: number, work: () => Promise<void>): Promise<void> {
    this.dagStartMs ??= Date.now();
    const start = Date.now();
    const base = this.done;
    const tick = setInterval(() => {
      this.done = Math.min(0.95, base + (1 - base) * Math.min(1, (Date.now() - start) / Math.max(ms, 1)) * 0.95);
    }, 50);
    try {
      await work();
    } finally {
      clearInterval(tick);
    }
  }

  complete(): void {
    this.done = 1;
  }

  report(state: OperationStateCode, noJob: boolean, startedMs: number): ProgressReport {
    if (noJob || state === TOperationState.INITIALIZED || state === TOperationState.PENDING) {
      return { headerNames: [], rows: [], progressedPercentage: 0, status: TJobExecutionStatus.NOT_AVAILABLE, footerSummary: '', startTime: 0 };
    }
    const finished = state === TOperationState.FINISHED || this.done >= 1;
    const fraction = finished ? 1 : this.done;
    const totalTasks = VERTICES.reduce((sum, v) => sum + v.tasks, 0);
    const doneTasks = Math.floor(fraction * totalTasks);
    let completedTasks = doneTasks;
    let verticesDone = 0;
    const rows = VERTICES.map((vertex) => {
      const completed = Math.min(vertex.tasks, completedTasks);
      completedTasks -= completed;
      const running = finished ? 0 : Math.min(vertex.tasks - completed, completed < vertex.tasks ? 1 : 0);
      const status = completed === vertex.tasks ? 'SUCCEEDED' : completed > 0 || running > 0 ? 'RUNNING' : 'INITED';
      if (status === 'SUCCEEDED') verticesDone++;
      const dots = '.'.repeat(Math.floor(((16 - vertex.name.length - 1) * completed) / vertex.tasks));
      return [`${vertex.name} ${dots}`, 'container', status, String(vertex.tasks), String(completed), String(running), String(vertex.tasks - completed - running), '0', '0'];
    });
    return {
      headerNames: HEADERS,
      rows,
      // TezProgressMonitor.progressedPercentage: succeeded tasks over all tasks, 0–1.
      progressedPercentage: finished ? 1 : doneTasks / totalTasks,
      status: finished ? TJobExecutionStatus.COMPLETE : TJobExecutionStatus.IN_PROGRESS,
      footerSummary: `VERTICES: ${String(verticesDone).padStart(2, '0')}/${String(VERTICES.length).padStart(2, '0')}`,
      startTime: this.dagStartMs ?? startedMs,
    };
  }
}

const LOG_COLUMN: ColumnPlan = { name: 'operation_log', typeId: TTypeId.STRING, source: 'text', wire: 'stringVal', width: 0 };

/** The operation log, fetched FETCH_NEXT from where the last fetch ended (FETCH_FIRST from the start). */
export class OperationLog {
  private readonly lines: string[] = [];
  private served = 0;
  private readonly compiledMs = Date.now();

  line(message: string): void {
    this.lines.push(`INFO  : ${message}`);
  }

  compiled(queryId: string, statement: string): void {
    this.line(`Compiling command(queryId=${queryId}): ${statement}`);
    this.line('Semantic Analysis Completed (retrial = false)');
    this.line(`Completed compiling command(queryId=${queryId}); Time taken: ${((Date.now() - this.compiledMs) / 1000 + 0.05).toFixed(3)} seconds`);
  }

  executing(queryId: string, statement: string, job: boolean): void {
    this.line(`Executing command(queryId=${queryId}): ${statement}`);
    if (!job) return;
    this.line(`Query ID = ${queryId}`);
    this.line('Total jobs = 1');
    this.line('Launching Job 1 out of 1');
    this.line('Starting task [Stage-1:MAPRED] in serial mode');
    this.line('Status: Running (Executing on YARN cluster with App id application_1700000000000_0042)');
  }

  completed(queryId: string): void {
    this.line(`Completed executing command(queryId=${queryId}); Time taken: ${((Date.now() - this.compiledMs) / 1000).toFixed(3)} seconds`);
    this.line('OK');
  }

  fetch(fromStart: boolean, maxRows: number): EncodedMessage {
    if (fromStart) this.served = 0;
    const batch = this.lines.slice(this.served, this.served + Math.max(0, maxRows));
    this.served += batch.length;
    return encodeLogReply(LOG_COLUMN, batch);
  }
}

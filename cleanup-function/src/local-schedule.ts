/**
 * The same cleanup on the same NCRONTAB schedule, for the local stack, where no Functions host
 * runs: croner understands the six-field form (seconds first) and `protect` skips a tick while
 * the previous run is still going, as the Functions timer's singleton lock does.
 */
import { Cron } from 'croner';
import { runCleanup } from './cleanup.js';
import type { CleanupRuntime } from './clients.js';
import { DEFAULT_SCHEDULE, parseSchedule } from './config.js';
import type { CleanupLog } from './log.js';
import { describeError } from './retry.js';
import { formatSummary, type CleanupSummary } from './summary.js';

export interface CleanupScheduleOptions {
  runtime: CleanupRuntime;
  /** @default '0 0 0 * * *' (every day at 00:00 UTC) */
  schedule?: string;
  /** @default console */
  log?: CleanupLog;
  /** Called after every run, for tests and for the stack's own status output. */
  onRun?: (summary: CleanupSummary) => void;
}

export interface ScheduledCleanup {
  nextRun(): Date | null;
  stop(): void;
}

export function startCleanupSchedule(options: CleanupScheduleOptions): ScheduledCleanup {
  const log = options.log ?? console;
  const job = new Cron(
    parseSchedule(options.schedule ?? DEFAULT_SCHEDULE),
    { mode: '6-part', timezone: 'UTC', protect: true, unref: true },
    async () => {
      try {
        const summary = await runCleanup({ ...options.runtime.deps, log }, options.runtime.options);
        log.log(formatSummary(summary));
        options.onRun?.(summary);
      } catch (error) {
        log.error(`cleanup: scheduled run failed: ${describeError(error)}`);
      }
    },
  );
  return { nextRun: () => job.nextRun(), stop: () => job.stop() };
}

/**
 * The timer handler, as a factory: the registered function builds its runtime from the app
 * settings, a test hands in one pointing at Azurite, and both run the exact same code through a
 * real `InvocationContext`. Clients are built on the first invocation and reused while the host
 * keeps the worker warm; a failed build is retried on the next invocation.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { runCleanup } from './cleanup.js';
import type { CleanupRuntime } from './clients.js';
import { describeError } from './retry.js';
import { formatSummary, hasFailures } from './summary.js';
import { startCleanupTelemetry, type CleanupTelemetry } from './telemetry.js';

export type CleanupHandler = (timer: Timer, context: InvocationContext) => Promise<void>;

export function createCleanupHandler(createRuntime: () => CleanupRuntime | Promise<CleanupRuntime>): CleanupHandler {
  let runtime: Promise<CleanupRuntime> | undefined;
  const getRuntime = (): Promise<CleanupRuntime> => {
    if (!runtime) {
      const building = Promise.resolve().then(createRuntime);
      building.catch(() => {
        if (runtime === building) runtime = undefined;
      });
      runtime = building;
    }
    return runtime;
  };

  let telemetry: Promise<CleanupTelemetry> | undefined;

  return async (timer, context) => {
    // Past due: the host missed the scheduled time (app was down, or a previous run overran).
    context.log(`cleanup: invocation ${context.invocationId} started, isPastDue=${timer.isPastDue}`);
    let traced: CleanupTelemetry | undefined;
    try {
      const { deps, options, telemetry: telemetryConfig } = await getRuntime();
      if (telemetryConfig) {
        telemetry ??= startCleanupTelemetry(telemetryConfig);
        traced = await telemetry;
      }
      const run = () => runCleanup({ ...deps, log: context }, options);
      const summary = await (traced ? traced.inRun(run) : run());
      context.log(formatSummary(summary));
      if (hasFailures(summary)) {
        const reasons = [
          summary.failed > 0 ? `${summary.failed} deletes failed` : undefined,
          summary.jobsFailed > 0 ? `${summary.jobsFailed} job updates failed` : undefined,
          ...summary.errors,
        ].filter((reason): reason is string => reason !== undefined);
        throw new Error(`cleanup left work for the next run: ${reasons.join('; ')}`);
      }
    } catch (error) {
      context.error(`cleanup: invocation ${context.invocationId} failed: ${describeError(error)}`);
      // Rethrown so the host records the invocation as failed and alerts can fire on it.
      throw error;
    } finally {
      // The host may freeze the instance as soon as the invocation returns.
      await traced?.flush().catch((error: unknown) => context.warn(`cleanup: telemetry could not be flushed: ${describeError(error)}`));
    }
  };
}

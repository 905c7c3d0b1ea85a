/**
 * The daily timer that deletes expired exports. Registered at load, which is when the host
 * indexes the app: only the schedule is read here, so a wrong storage setting fails the
 * invocation (visibly) instead of hiding the function ("No job functions found").
 */
import { app } from '@azure/functions';
import { createCleanupRuntime } from '../clients.js';
import { loadCleanupConfig, loadSchedule } from '../config.js';
import { createCleanupHandler } from '../handler.js';

const FUNCTION_NAME = 'cleanupExpiredExports';

export const cleanupExpiredExports = createCleanupHandler(() => createCleanupRuntime(loadCleanupConfig()));

app.timer(FUNCTION_NAME, {
  schedule: loadSchedule(),
  runOnStartup: false,
  handler: cleanupExpiredExports,
});

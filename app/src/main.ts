/**
 * The connector's entry point: configuration from the environment, the composed connector,
 * and a clean shutdown on SIGTERM/SIGINT (running jobs are recorded as interrupted, not lost).
 * Prints `READY {"url": ...}` once listening, which the local stack waits for.
 */
import { buildConnector } from './composition.js';
import { ConfigError, loadConfig } from './config/config.js';
import { collectAfterStart } from './garbage-collection.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const connector = buildConnector(config);
  // Last resort: a stray rejection must be seen in the log, not silently kill every running
  // export (Node's default). A thrown exception leaves the process in an unknown state: log it
  // and let systemd restart us; jobs in flight are then marked interrupted at the next start.
  process.on('unhandledRejection', (reason) => connector.logger.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (error) => {
    connector.logger.fatal({ err: error }, 'uncaught exception; exiting');
    process.exit(1);
  });
  const server = await connector.start();
  connector.logger.info({ url: server.url, instanceId: config.instanceId, storage: config.storage.method }, 'connector listening');
  process.stdout.write(`READY ${JSON.stringify({ url: server.url })}\n`);
  collectAfterStart();

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    connector.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    connector.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        connector.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();

/**
 * The connector's entry point: configuration from the environment, the composed connector,
 * and a clean shutdown on SIGTERM/SIGINT (running jobs are recorded as interrupted, not lost).
 * Prints `READY {"url": ...}` once listening, which the local stack waits for.
 */
import { buildConnector } from './composition.js';
import { ConfigError, loadConfig } from './config/config.js';

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
  const server = await connector.start();
  connector.logger.info({ url: server.url, instanceId: config.instanceId, storage: config.storage.method }, 'connector listening');
  process.stdout.write(`READY ${JSON.stringify({ url: server.url })}\n`);

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

/**
 * CLI for the EnOS identity stand-in, as the local stack starts it:
 *   tsx scripts/enos-stand-in/main.ts [--port 0] [--host 127.0.0.1] [--seed file.json] [--no-app-token]
 * Prints one line `READY {"url":"http://127.0.0.1:PORT"}` once listening; SIGTERM/SIGINT close it.
 */
import { parseArgs } from 'node:util';
import { startEnosStandIn } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string' },
    'no-app-token': { type: 'boolean', default: false },
  },
  strict: true,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port expects an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  process.exit(2);
}

const standIn = await startEnosStandIn({
  port,
  host: values.host,
  seedFile: values.seed,
  requireAppToken: values['no-app-token'] ? false : undefined,
});
console.log(`READY ${JSON.stringify({ url: standIn.url })}`);

let closing = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (closing) return;
  closing = true;
  standIn.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`EnOS stand-in failed to close after ${signal}:`, error);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

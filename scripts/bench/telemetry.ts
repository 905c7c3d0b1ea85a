/**
 * What telemetry costs the connector at rest: the resident memory of an idle connector process
 * (app/src/main.ts under tsx, as `npm start` runs it) with telemetry off — the distro is then
 * never imported — and on (a connection string to a loopback port where nothing listens, key
 * auth, so nothing leaves the machine). Each side is started three times, alternating, and the
 * medians are compared. `npm run bench telemetry`
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseReadyLine, startChildService, tsxArgs } from '../lib/child-service.js';

const MAIN = fileURLToPath(new URL('../../app/src/main.ts', import.meta.url));
const SETTLE_MS = 5_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** VmRSS of a process, in MB (Linux). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

async function idleRss(telemetry: boolean): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-telemetry-'));
  const deadPort = await freePort();
  const child = await startChildService({
    name: 'connector',
    command: process.execPath,
    args: tsxArgs(MAIN),
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      LOG_LEVEL: 'warn',
      HIVE_HOST: '127.0.0.1',
      HIVE_USERNAME: 'bench',
      HIVE_PASSWORD: 'bench',
      ENOS_BASE_URL: `http://127.0.0.1:${deadPort}`,
      SESSION_SIGNING_KEY: randomBytes(32).toString('base64'),
      ORG_ACCESS: '{"demo-org":{"databases":["enos"]}}',
      BLOB_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${randomBytes(64).toString('base64')};BlobEndpoint=http://127.0.0.1:${deadPort}/devstoreaccount1;`,
      SQLITE_FILE: path.join(dir, 'jobs.sqlite'),
      ...(telemetry
        ? { APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:${deadPort}/`, TELEMETRY_AUTH: 'key' }
        : {}),
    },
    readyWhen: (line) => parseReadyLine<{ url: string }>(line),
    timeoutMs: 60_000,
  });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const rss = rssMb(child.child.pid!);
  await child.stop();
  return rss;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export default async function bench(): Promise<void> {
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < 3; round++) {
    off.push(await idleRss(false));
    on.push(await idleRss(true));
  }
  console.log(`idle connector RSS, ${SETTLE_MS / 1000} s after ready, median of 3 (tsx included on both sides):`);
  console.log(`  telemetry off: ${median(off).toFixed(1)} MB   (${off.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`  telemetry on : ${median(on).toFixed(1)} MB   (${on.map((v) => v.toFixed(0)).join(', ')})`);
  console.log(`  ratio on/off : ${(median(on) / median(off)).toFixed(2)}x; the distro costs ${(median(on) - median(off)).toFixed(1)} MB only when configured`);
}

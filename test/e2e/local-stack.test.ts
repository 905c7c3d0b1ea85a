/**
 * The local stack (`npm start`'s script) the way people treat it, in one scratch data folder:
 * - Ctrl-C in the terminal (SIGINT to the whole foreground process group) during an export
 *   stops the connector before the stand-ins, so the export ends `interrupted`, with no error
 *   logged, instead of failing on a Hive that went first;
 * - started again, every service gets the port it had, so a download URL copied before the
 *   restart still downloads after it; a recorded port that something else took is given up for
 *   a free one, and the others stay;
 * - a child that dies (`kill -9` of the connector) is named, and the stack stops.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import hive from 'hive-driver';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA = mkdtempSync(path.join(tmpdir(), 'e2e-local-stack-'));

interface Stack {
  child: ChildProcess;
  ready: { url: string; adminUrl: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every line the stack and its forwarded children printed so far. */
  output: string[];
}

const stacks: Stack[] = [];
afterAll(async () => {
  for (const stack of stacks) {
    if (stack.child.exitCode === null && stack.child.signalCode === null) stack.child.kill('SIGTERM');
    await stack.exited;
  }
});

/**
 * Starts the stack as a terminal runs `npm start` in the foreground: in a process group of its
 * own (spawned here with plain child_process, so the test does not rest on the code under test).
 */
async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/local-stack.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HIVE_SEED_ROWS: '20000', HIVE_FETCH_SIZE: '100', LOCAL_STACK_DIR: DATA, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const output: string[] = [];
  let url: string | undefined;
  const ready = new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
    const onLine = (line: string) => {
      output.push(line);
      url ??= /^Connector ready at (http:\/\/\S+)$/.exec(line)?.[1];
      const adminUrl = /fault hooks.*: (http:\/\/\S+)$/.exec(line)?.[1];
      if (url && adminUrl) resolve({ url, adminUrl });
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    void exited.then(({ code }) => reject(new Error(`the stack exited (code ${code}) before it was ready:\n${output.slice(-20).join('\n')}`)));
  });
  const stack = { child, ready: await withTimeout(ready, 180_000, 'the stack to be ready'), exited, output };
  stacks.push(stack);
  return stack;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Ctrl-C in a terminal: SIGINT to every process of the foreground group. */
async function pressCtrlC(stack: Stack): Promise<number | null> {
  process.kill(-stack.child.pid!, 'SIGINT');
  return (await withTimeout(stack.exited, 60_000, 'the stack to stop')).code;
}

const readJson = (file: string) => JSON.parse(readFileSync(path.join(DATA, file), 'utf8')) as Record<string, any>;

/** A job as the stack's SQLite job store holds it, read while no stack runs. */
function storedJob(id: string): { status: string; error: { code: string } | null } {
  const db = new Database(path.join(DATA, 'jobs.sqlite'), { readonly: true });
  try {
    const row = db.prepare<[string], { status: string; error: string | null }>('SELECT status, error FROM export_jobs WHERE id = ?').get(id)!;
    return { status: row.status, error: row.error === null ? null : (JSON.parse(row.error) as { code: string }) };
  } finally {
    db.close();
  }
}

async function api(stack: Stack, method: string, route: string, token?: string, body?: unknown): Promise<any> {
  const response = await fetch(`${stack.ready.url}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return response.json();
}

async function waitForJob(stack: Stack, token: string, id: string, done: (job: any) => boolean): Promise<any> {
  for (let i = 0; ; i++) {
    const job = await api(stack, 'GET', `/api/v1/exports/${id}`, token);
    if (done(job)) return job;
    if (i > 1_200) throw new Error(`export ${id} never got there: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The stack's child processes by what they run (read from ps, not from the stack's own files). */
function childrenOf(pid: number): Record<string, number> {
  const kinds: [string, RegExp][] = [
    ['connector', /app\/src\/main\.ts/],
    ['hive', /hive-stand-in\/main\.ts/],
    ['enos', /enos-stand-in\/main\.ts/],
    ['azurite', /azurite/],
  ];
  const children: Record<string, number> = {};
  for (const line of execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n')) {
    const [, childPid, args] = /^\s*(\d+)\s+(.*)$/.exec(line) ?? [];
    const kind = kinds.find(([, pattern]) => pattern.test(args ?? ''))?.[0];
    if (kind && childPid) children[kind] = Number(childPid);
  }
  expect(Object.keys(children).sort()).toEqual(['azurite', 'connector', 'enos', 'hive']);
  return children;
}

/** Names of `pids` in the order their processes end. */
async function deathOrder(pids: Record<string, number>): Promise<string[]> {
  const order: string[] = [];
  while (order.length < Object.keys(pids).length) {
    for (const [name, pid] of Object.entries(pids)) if (!order.includes(name) && !alive(pid)) order.push(name);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return order;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the local stack', () => {
  let token: string;
  let interruptedId: string;
  let copiedUrl: string;
  let copiedBody: string;
  let portsBefore: Record<string, number>;

  it('on Ctrl-C during an export stops the connector before the stand-ins, and the export ends interrupted', { timeout: 300_000 }, async () => {
    const stack = await startStack();
    token = (await api(stack, 'POST', '/api/v1/sessions', undefined, { username: 'demo', password: 'demo-password' })).token;
    const small = await api(stack, 'POST', '/api/v1/exports', token, { sql: 'SELECT asset_id, name FROM enos.asset ORDER BY asset_id' });
    const done = await waitForJob(stack, token, small.id, (job) => job.status === 'succeeded');
    copiedUrl = done.downloadUrl;
    copiedBody = await (await fetch(copiedUrl)).text();
    expect(copiedBody).toMatch(/^asset_id,name\r\n/);

    // Rows trickle in (a delayed fetch every 100 rows): the export is mid-stream at Ctrl-C.
    const fault = await fetch(`${stack.ready.adminUrl}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'delay', match: 'ctrl_c_probe', ms: 500, during: 'fetch' }),
    });
    expect(fault.status).toBe(201);
    const long = await api(stack, 'POST', '/api/v1/exports', token, { sql: "SELECT *, 'ctrl_c_probe' AS probe FROM enos.measurement" });
    interruptedId = long.id;
    await waitForJob(stack, token, long.id, (job) => job.status === 'running' && job.progress.rows > 0);
    portsBefore = existsSync(path.join(DATA, 'ports.json')) ? readJson('ports.json') : {};

    const dying = deathOrder(childrenOf(stack.child.pid!));
    expect(await pressCtrlC(stack)).toBe(0);
    const order = await dying;
    expect(order.indexOf('connector')).toBeLessThan(order.indexOf('hive'));
    expect(order.indexOf('connector')).toBeLessThan(order.indexOf('enos'));
    expect(storedJob(long.id)).toEqual({ status: 'failed', error: expect.objectContaining({ code: 'interrupted' }) });
    // Nothing logged at error level (pino 50) or worse: no Hive failure, no stack trace.
    expect(stack.output.filter((line) => /"level":(50|60)/.test(line))).toEqual([]);
  });

  it('started again, keeps every port, so the URL copied before still downloads, and shows the export interrupted', { timeout: 300_000 }, async () => {
    const stack = await startStack({ HIVE_VERSION: '4.0' });
    const download = await fetch(copiedUrl).catch((error: unknown) => error as Error);
    expect(download instanceof Response ? download.status : String(download), 'the URL copied before the restart').toBe(200);
    expect(await (download as Response).text()).toBe(copiedBody);
    expect(readJson('ports.json')).toEqual(portsBefore);
    expect(new URL(copiedUrl).port).toBe(String(portsBefore['azurite-blob']));

    const job = await api(stack, 'GET', `/api/v1/exports/${interruptedId}`, token);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'interrupted', message: expect.stringMatching(/again/) } });
  });

  it('lists the Hive stand-in in stack.json so another Hive client can use it, as the Hive version asked for', { timeout: 120_000 }, async () => {
    const { hive: listed } = readJson('stack.json') as {
      hive: { version: string; endpoints: { transport: string; auth: string; host: string; port: number }[]; serviceAccount: string; passwordIn: string };
    };
    expect(listed).toMatchObject({ version: '4.0', serviceAccount: 'connector', passwordIn: expect.stringContaining('secrets.json') });
    const endpoint = listed.endpoints.find((candidate) => candidate.transport === 'binary' && candidate.auth === 'PLAIN')!;
    const { hivePassword } = readJson('secrets.json') as { hivePassword: string };
    // hive-driver as any user would set it up, from what the file says.
    const { TCLIService, TCLIService_types } = hive.thrift;
    const client = new hive.HiveClient(TCLIService, TCLIService_types);
    client.on('error', () => undefined);
    await client.connect({ host: endpoint.host, port: endpoint.port }, new hive.connections.TcpConnection(), new hive.auth.PlainTcpAuthentication({ username: listed.serviceAccount, password: hivePassword }));
    try {
      // Hive 4.0 serializes row sets in its tasks by default (binaryColumns), which hive-driver cannot read: ask for columns.
      const session = await client.openSession({
        client_protocol: TCLIService_types.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10,
        configuration: { 'set:hiveconf:hive.server2.thrift.resultset.serialize.in.tasks': 'false' },
      });
      const info = await session.getInfo(TCLIService_types.TGetInfoType.CLI_DBMS_VER);
      expect(info.getValue()).toMatch(/^4\.0\./);
      const operation = await session.executeStatement('SELECT count(*) AS n FROM enos.asset', { runAsync: true });
      await new hive.HiveUtils(TCLIService_types).waitUntilReady(operation, false, () => undefined);
      await new hive.HiveUtils(TCLIService_types).fetchAll(operation);
      expect(Number(operation.getData()[0]?.columns?.[0]?.i64Val?.values[0])).toBeGreaterThan(0);
      await operation.close();
      await session.close();
    } finally {
      client.close();
    }
  });

  it('says so and stops when a child dies, e.g. a kill -9 of the connector', { timeout: 120_000 }, async () => {
    const stack = stacks.at(-1)!;
    const pids = childrenOf(stack.child.pid!);
    process.kill(pids.connector!, 'SIGKILL');
    const { code } = await withTimeout(stack.exited, 60_000, 'the stack to stop');
    expect(code).toBe(1);
    expect(stack.output).toContain(`The connector (pid ${pids.connector}) exited unexpectedly (signal SIGKILL); stopping the stack.`);
    for (const name of ['azurite', 'hive', 'enos']) expect(alive(pids[name]!), `${name} still runs`).toBe(false);
  });

  it('gives a service whose recorded port something else took a free one, and keeps the others', { timeout: 300_000 }, async () => {
    const taken = readJson('ports.json').enos as number;
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
    try {
      const stack = await startStack();
      const ports = readJson('ports.json');
      expect(ports.enos).not.toBe(taken);
      expect({ ...ports, enos: taken }).toEqual(portsBefore);
      expect(await pressCtrlC(stack)).toBe(0);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReadyLine, startChildService, tsxArgs, type ChildService } from '../../../scripts/lib/child-service.js';
import type { HiveConfig } from '../../../app/src/config/config.js';
import { openHiveConnection } from '../../../app/src/hive/hive-connection.js';
import type { ListenerInfo } from '../../../scripts/hive-stand-in/index.js';
import { TOperationState, connect, fetchJsonRows, openSession } from './hive-client.js';

// The stand-in as the local stack runs it: a child process started from the CLI, ready line with
// real ports, faults injected from outside through the admin listener, clean exit on SIGTERM.
interface Ready {
  listeners: ListenerInfo[];
  adminUrl: string;
  seedRows: number;
  reusedDbFile: boolean;
  tlsCa?: string;
}

const MAIN = fileURLToPath(new URL('../../../scripts/hive-stand-in/main.ts', import.meta.url));

function start(...args: string[]): Promise<ChildService<Ready>> {
  return startChildService<Ready>({
    name: 'hive-stand-in',
    command: process.execPath,
    args: tsxArgs(MAIN, ...args),
    readyWhen: (line) => parseReadyLine<Ready>(line),
    timeoutMs: 120_000,
  });
}

async function admin(ready: Ready, method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${ready.adminUrl}${route}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

describe('the stand-in CLI', () => {
  let child: ChildService<Ready>;
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'hive-stand-in-cli-'));
    child = await start(
      '--port', '0', '--auth', 'PLAIN', '--nosasl-port', '0', '--http-port', '0', '--admin-port', '0',
      '--user', 'connector:s3cret:with:colons', '--user', 'analyst:pw', '--seed-rows', '2500', '--db-file', path.join(scratch, 'hive.duckdb'),
    );
  });

  afterAll(async () => {
    await child?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('prints the real ports of every listener once ready', () => {
    expect(child.ready.seedRows).toBe(2500);
    expect(child.ready.listeners.map((l) => [l.transport, l.auth, l.host])).toEqual([
      ['binary', 'PLAIN', '127.0.0.1'],
      ['binary', 'NOSASL', '127.0.0.1'],
      ['http', 'PLAIN', '127.0.0.1'],
    ]);
    expect(child.ready.listeners.every((l) => l.port > 0)).toBe(true);
    expect(child.ready.listeners[2]!.path).toBe('/cliservice');
  });

  it('serves the seeded database to the users given on the command line', async () => {
    const connection = await connect(child.ready.listeners[0]!, { username: 'connector', password: 's3cret:with:colons' });
    try {
      const session = await openSession(connection);
      expect(await fetchJsonRows(connection, session, 'SELECT count(*) AS n FROM enos.measurement')).toEqual([{ n: 2500 }]);
    } finally {
      connection.close();
    }
    await expect(connect(child.ready.listeners[0]!, { username: 'hive', password: 'hive' })).rejects.toThrow('Error validating the login');
  });

  it('takes faults from outside the process and lists operations', async () => {
    const created = await admin(child.ready, 'POST', '/faults', { kind: 'fail', match: 'admin-marker', message: 'injected from the admin listener', times: 1 });
    expect(created.status).toBe(201);
    const { id } = created.json as { id: string };
    expect((await admin(child.ready, 'GET', '/faults')).json).toEqual([
      { id, spec: { kind: 'fail', match: 'admin-marker', message: 'injected from the admin listener', times: 1 }, hits: 0 },
    ]);

    const connection = await connect(child.ready.listeners[1]!);
    try {
      const session = await openSession(connection);
      const failed = await connection.bounded(session.executeStatement('SELECT count(*) FROM enos.asset -- admin-marker', { runAsync: true }), 'ExecuteStatement');
      expect(await connection.bounded(failed.status(false), 'GetOperationStatus')).toMatchObject({
        operationState: TOperationState.ERROR_STATE,
        errorMessage: 'injected from the admin listener',
      });
      // times: 1 — the next matching statement runs normally.
      expect(await fetchJsonRows(connection, session, 'SELECT 2 AS two -- admin-marker')).toEqual([{ two: 2 }]);
    } finally {
      connection.close();
    }
    const operations = (await admin(child.ready, 'GET', '/operations')).json as { statement: string; state: string }[];
    expect(operations.filter((o) => o.statement.includes('admin-marker')).map((o) => o.state)).toEqual(['ERROR', 'CLOSED']);
    expect((await admin(child.ready, 'DELETE', `/faults/${id}`)).status).toBe(204);
    expect((await admin(child.ready, 'DELETE', `/faults/${id}`)).status).toBe(404);
  });

  it('answers bad admin requests with a 400 that says what is wrong', async () => {
    expect(await admin(child.ready, 'POST', '/faults', { kind: 'explode' })).toMatchObject({
      status: 400,
      json: { error: { code: 'bad_request', message: expect.stringContaining('fault kind must be one of delay, fail, drop-during-fetch') } },
    });
    expect(await admin(child.ready, 'POST', '/faults', { kind: 'delay', ms: -1 })).toMatchObject({ status: 400 });
    expect(await admin(child.ready, 'POST', '/query', { sql: 'SELECT count(*) AS n FROM enos.asset' })).toMatchObject({
      status: 200,
      json: { rows: [{ n: '1000' }] },
    });
  });

});

describe('a database file', () => {
  it('is re-used while it holds the same seed, re-seeded when the rows change, and the process exits cleanly', async () => {
    const scratch = await mkdtemp(path.join(tmpdir(), 'hive-stand-in-file-'));
    try {
      const file = path.join(scratch, 'hive.duckdb');
      const runs: [boolean, number][] = [];
      for (const rows of ['500', '500', '700']) {
        const child = await start('--port', '0', '--seed-rows', rows, '--db-file', file, '--admin-port', '0');
        const counted = await admin(child.ready, 'POST', '/query', { sql: 'SELECT count(*) AS n FROM enos.measurement' });
        runs.push([child.ready.reusedDbFile, Number((counted.json as { rows: { n: string }[] }).rows[0]!.n)]);
        await child.stop();
        expect(child.child.exitCode).toBe(0);
      }
      expect(runs).toEqual([[false, 500], [true, 500], [false, 700]]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

describe('the stand-in CLI with --tls', () => {
  it('serves every listener over TLS with a generated certificate and prints the PEM to trust', async () => {
    const child = await start('--tls', '--port', '0', '--http-port', '0', '--user', 'connector:pw', '--seed-rows', '100');
    try {
      expect(child.ready.listeners.map((l) => [l.transport, l.tls])).toEqual([['binary', true], ['http', true]]);
      expect(child.ready.tlsCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
      for (const l of child.ready.listeners) {
        const config: HiveConfig = {
          host: l.host, port: l.port, transport: l.transport, httpPath: l.path ?? '/cliservice', auth: 'PLAIN', username: 'connector', password: 'pw',
          kerberosService: 'hive', tls: { ca: child.ready.tlsCa! }, sessionConf: {}, fetchSize: 100, pollIntervalMs: 50, callTimeoutMs: 10_000, queryTimeoutMs: 60_000,
        };
        const connection = await openHiveConnection(config);
        await connection.close();
      }
    } finally {
      await child.stop();
    }
  });
});

describe('bad command lines', () => {
  it('refuses an unknown auth mode, naming the flag and the value', async () => {
    await expect(start('--auth', 'LDAP')).rejects.toThrow(/--auth must be PLAIN, NOSASL or KERBEROS, got "LDAP"/);
  });

  it('refuses a KERBEROS listener without the service principal and keytab', async () => {
    await expect(start('--auth', 'KERBEROS')).rejects.toThrow(/KERBEROS listener needs --kerberos-principal .* and --kerberos-keytab/);
  });

  it('refuses a certificate without --tls, and a certificate without its key', async () => {
    await expect(start('--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent.key')).rejects.toThrow(/--tls-cert and --tls-key need --tls/);
    await expect(start('--tls', '--tls-cert', '/nonexistent.pem')).rejects.toThrow(/--tls-cert and --tls-key go together/);
  });
});

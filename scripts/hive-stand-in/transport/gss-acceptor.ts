/**
 * GSSAPI on the stand-in's side: accepts Kerberos (binary SASL GSSAPI) and SPNEGO (HTTP
 * Negotiate) tokens for one service principal, as HiveServer2 does with its keytab
 * (hive.server2.authentication.kerberos.principal/keytab). The work is done by MIT GSSAPI in a
 * small C helper (gss-acceptor.c; why C: see there), compiled on first use with the system's
 * `cc` and `krb5-config` (libkrb5-dev) and cached by the hash of its source.
 */
import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gss-acceptor.c');

export interface GssAcceptorOptions {
  /** The service principal to accept for, e.g. `hive/127.0.0.1@EXAMPLE.TEST`. */
  principal: string;
  /** The keytab holding that principal's keys. */
  keytab: string;
  /** krb5.conf naming the realm. @default - the system's */
  krb5Conf?: string;
}

export interface Accepted {
  /** The client's full principal, e.g. `connector@EXAMPLE.TEST`. */
  principal: string;
  /** What Hive makes of it with the DEFAULT auth_to_local rule: the first component. */
  shortName: string;
}

/** One security context: the steps of one SASL exchange, then wrap/unwrap on it. */
export interface GssContext {
  /** Feeds a client token; `accepted` once the context is established. */
  step(token: Buffer): Promise<{ output: Buffer; accepted?: Accepted }>;
  wrap(data: Buffer): Promise<Buffer>;
  unwrap(token: Buffer): Promise<Buffer>;
  dispose(): void;
}

export interface GssAcceptor {
  /** SPNEGO over HTTP: a single token must establish the context (Hive sends no reply token). */
  acceptOnce(tokenBase64: string): Promise<Accepted>;
  context(): GssContext;
  close(): Promise<void>;
}

/** Compiles the helper once per source version; concurrent starts race harmlessly to one rename. */
async function helperBinary(): Promise<string> {
  const source = await readFile(SOURCE);
  const dir = path.join(tmpdir(), 'hive-stand-in-gss');
  const binary = path.join(dir, `gss-acceptor-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  let flags: string[];
  try {
    const { stdout } = await run('krb5-config', ['--cflags', '--libs', 'gssapi']);
    flags = stdout.split(/\s+/).filter(Boolean);
  } catch (error) {
    throw new Error(`krb5-config not found: the Kerberos stand-in needs libkrb5-dev (${(error as Error).message})`);
  }
  const partial = `${binary}.${process.pid}.tmp`;
  await run('cc', ['-O2', '-o', partial, SOURCE, ...flags]);
  await rename(partial, binary);
  return binary;
}

const shortNameOf = (principal: string) => principal.split(/[/@]/)[0] ?? principal;

export async function startGssAcceptor(options: GssAcceptorOptions): Promise<GssAcceptor> {
  const binary = await helperBinary();
  const child: ChildProcessWithoutNullStreams = spawn(binary, [options.principal], {
    env: { PATH: process.env.PATH ?? '', KRB5_KTNAME: options.keytab, ...(options.krb5Conf ? { KRB5_CONFIG: options.krb5Conf } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const waiting = new Map<number, { resolve: (fields: string[]) => void; reject: (error: Error) => void }>();
  let ready!: (value: void) => void;
  let failed!: (error: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('exit', (code) => {
    const error = new Error(`the GSSAPI acceptor exited (${code}): ${stderr.trim()}`);
    failed(error);
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [id, status, ...rest] = line.split(' ');
    if (id === '0') {
      if (status === 'ready') ready();
      else failed(new Error(`the GSSAPI acceptor could not start: ${rest.join(' ')}`));
      return;
    }
    const pending = waiting.get(Number(id));
    if (!pending) return;
    waiting.delete(Number(id));
    if (status === 'ok') pending.resolve(rest);
    else pending.reject(new Error(rest.join(' ')));
  });
  await started;

  let nextId = 1;
  let nextRequest = 1;
  // Requests are matched to replies by a per-request number; the context id names the context.
  const request = (contextId: number, op: string, data: Buffer): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const requestId = nextRequest++;
      waiting.set(requestId, { resolve, reject });
      child.stdin.write(`${requestId} ${contextId} ${op} ${data.length > 0 ? data.toString('base64') : '-'}\n`);
    });
  const bytes = (field: string | undefined) => (field === undefined || field === '-' ? Buffer.alloc(0) : Buffer.from(field, 'base64'));

  function context(): GssContext {
    const id = nextId++;
    return {
      async step(token) {
        const [complete, output, principal] = await request(id, 'accept', token);
        const name = complete === '1' ? bytes(principal).toString('utf8') : undefined;
        return { output: bytes(output), ...(name !== undefined ? { accepted: { principal: name, shortName: shortNameOf(name) } } : {}) };
      },
      wrap: async (data) => bytes((await request(id, 'wrap', data))[0]),
      unwrap: async (token) => bytes((await request(id, 'unwrap', token))[0]),
      dispose: () => void request(id, 'free', Buffer.alloc(0)).catch(() => undefined),
    };
  }

  return {
    async acceptOnce(tokenBase64) {
      const ctx = context();
      try {
        const { accepted } = await ctx.step(Buffer.from(tokenBase64, 'base64'));
        if (!accepted) throw new Error('unable to establish context with the service ticket provided by the client.');
        return accepted;
      } finally {
        ctx.dispose();
      }
    },
    context,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

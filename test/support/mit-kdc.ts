/**
 * A real MIT Kerberos KDC for the Kerberos tests (Debian's krb5-kdc and krb5-admin-server):
 * its own realm, database, config and ports in a temp folder, listening on 127.0.0.1 only,
 * started as a child and stopped by its PID. `addPrincipal` creates a principal with a random
 * key and writes its keytab, as a cluster admin would hand one out.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './connector-stack.js';

const run = promisify(execFile);

export interface MitKdc {
  realm: string;
  port: number;
  /** krb5.conf for clients and servers of this realm (no DNS, no reverse lookups, TCP). */
  krb5Conf: string;
  dir: string;
  /** Creates `name` (e.g. `hive/127.0.0.1`, `connector`) and returns its keytab's path. */
  addPrincipal(name: string, options?: { maxLife?: string }): Promise<string>;
  stop(): Promise<void>;
}

const SBIN = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`krb5kdc exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`krb5kdc did not listen on 127.0.0.1:${port} within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startMitKdc(realm = 'HIVE.TEST'): Promise<MitKdc> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mit-kdc-'));
  const port = await freePort();
  const kadminPort = await freePort();
  const krb5Conf = path.join(dir, 'krb5.conf');
  const kdcConf = path.join(dir, 'kdc.conf');
  await writeFile(
    krb5Conf,
    `[libdefaults]
  default_realm = ${realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  default_ccache_name = FILE:${dir}/default-ccache
[realms]
  ${realm} = {
    kdc = 127.0.0.1:${port}
  }
`,
  );
  await writeFile(
    kdcConf,
    `[kdcdefaults]
  kdc_listen = 127.0.0.1:${port}
  kdc_tcp_listen = 127.0.0.1:${port}
[realms]
  ${realm} = {
    database_name = ${dir}/principal
    key_stash_file = ${dir}/stash
    acl_file = ${dir}/kadm5.acl
    kadmind_port = ${kadminPort}
    max_life = 1h
    max_renewable_life = 0
  }
[logging]
  kdc = FILE:${dir}/kdc.log
`,
  );
  await writeFile(path.join(dir, 'kadm5.acl'), '');
  const env = { PATH: SBIN.join(':'), KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf };
  await run('kdb5_util', ['create', '-s', '-r', realm, '-P', `master-${Math.random().toString(36).slice(2)}`], { env });
  const kadmin = (query: string) => run('kadmin.local', ['-r', realm, '-q', query], { env });

  const child = spawn('krb5kdc', ['-n', '-r', realm], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitForPort(port, child, 15_000);
  } catch (error) {
    child.kill();
    throw new Error(`${(error as Error).message}: ${stderr}`);
  }

  return {
    realm,
    port,
    krb5Conf,
    dir,
    async addPrincipal(name, options = {}) {
      await kadmin(`addprinc -randkey ${options.maxLife ? `-maxlife "${options.maxLife}" ` : ''}${name}`);
      const keytab = path.join(dir, `${name.replace(/\W/g, '_')}.keytab`);
      await kadmin(`ktadd -k ${keytab} ${name}`);
      return keytab;
    },
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

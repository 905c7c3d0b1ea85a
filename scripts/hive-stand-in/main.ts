/**
 * CLI for the HiveServer2 stand-in, for the local stack and for tests that run it as a child:
 *
 *   tsx scripts/hive-stand-in/main.ts [--port 0] [--auth PLAIN|NOSASL|KERBEROS] [--nosasl-port N]
 *     [--http-port N] [--http-auth PLAIN|NOSASL|KERBEROS] [--http-path /cliservice]
 *     [--http-cookie-max-age SECONDS] [--no-http-cookie-auth]
 *     [--tls] [--tls-cert file --tls-key file]
 *     [--kerberos-principal hive/127.0.0.1@REALM --kerberos-keytab file [--krb5-conf file]]
 *     [--user name:password]... [--seed-rows N] [--db-file path] [--admin-port N]
 *     [--hive-version 2.3|3.1|4.0] [--conf name=value]... [--proxy-user account=user1,user2|*]...
 *     [--max-fetch-rows N]
 *
 * Accounts may also come from HIVE_STAND_IN_USERS (name:password, comma-separated), which keeps
 * passwords out of the process list (`ps` shows arguments to every local user).
 *
 * --tls serves every listener over TLS (hive.server2.use.SSL), with the given certificate or one
 * generated for 127.0.0.1/localhost. Without --port or --http-port it serves binary PLAIN on a
 * free port. Once listening it prints one line,
 * `READY {"listeners":[{transport,auth,tls,host,port,path?}],"adminUrl":...,"tlsCa":PEM?,"seedRows":N,"reusedDbFile":bool}`.
 * SIGTERM and SIGINT close it cleanly.
 */
import { parseArgs } from 'node:util';
import { parseHiveVersion } from './service/cluster.js';
import { DEFAULT_SEED_ROWS, startHiveStandIn, type Auth, type ListenerOptions } from './stand-in.js';
import { tlsIdentityFromFiles } from './transport/tls-identity.js';

function fail(message: string): never {
  process.stderr.write(`hive-stand-in: ${message}\n`);
  process.exit(2);
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) fail(`--${flag} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return number;
}

function auth(flag: string, value: string | undefined): Auth {
  const upper = (value ?? 'PLAIN').toUpperCase();
  if (upper !== 'PLAIN' && upper !== 'NOSASL' && upper !== 'KERBEROS') fail(`--${flag} must be PLAIN, NOSASL or KERBEROS, got ${JSON.stringify(value)}`);
  return upper;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    auth: { type: 'string' },
    'nosasl-port': { type: 'string' },
    'http-port': { type: 'string' },
    'http-auth': { type: 'string' },
    'http-path': { type: 'string' },
    user: { type: 'string', multiple: true },
    'seed-rows': { type: 'string' },
    'db-file': { type: 'string' },
    'admin-port': { type: 'string' },
    'max-fetch-rows': { type: 'string' },
    'hive-version': { type: 'string' },
    conf: { type: 'string', multiple: true },
    'proxy-user': { type: 'string', multiple: true },
    'http-cookie-max-age': { type: 'string' },
    'no-http-cookie-auth': { type: 'boolean' },
    tls: { type: 'boolean' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'kerberos-principal': { type: 'string' },
    'kerberos-keytab': { type: 'string' },
    'krb5-conf': { type: 'string' },
  },
  strict: true,
});

const hiveVersion = values['hive-version'] === undefined ? undefined : parseHiveVersion(values['hive-version']);
if (values['hive-version'] !== undefined && !hiveVersion) fail(`--hive-version must be 2.3, 3.1 or 4.0, got ${JSON.stringify(values['hive-version'])}`);
const conf: Record<string, string> = {};
for (const pair of values.conf ?? []) {
  const eq = pair.indexOf('=');
  if (eq <= 0) fail(`--conf must be name=value, got ${JSON.stringify(pair)}`);
  conf[pair.slice(0, eq)] = pair.slice(eq + 1);
}
const proxyUsers: Record<string, string[] | '*'> = {};
for (const pair of values['proxy-user'] ?? []) {
  const eq = pair.indexOf('=');
  if (eq <= 0) fail(`--proxy-user must be account=user1,user2 or account=*, got ${JSON.stringify(pair)}`);
  const users = pair.slice(eq + 1);
  proxyUsers[pair.slice(0, eq)] = users === '*' ? '*' : users.split(',').filter(Boolean);
}

const listeners: ListenerOptions[] = [];
const port = integer('port', values.port);
const httpPort = integer('http-port', values['http-port']);
const nosaslPort = integer('nosasl-port', values['nosasl-port']);
const tls = values.tls === true;
if (port !== undefined || (httpPort === undefined && nosaslPort === undefined)) {
  listeners.push({ transport: 'binary', auth: auth('auth', values.auth), port: port ?? 0, tls });
}
if (nosaslPort !== undefined) listeners.push({ transport: 'binary', auth: 'NOSASL', port: nosaslPort, tls });
const cookieMaxAge = integer('http-cookie-max-age', values['http-cookie-max-age']);
if (httpPort !== undefined) {
  listeners.push({
    transport: 'http',
    auth: auth('http-auth', values['http-auth']),
    port: httpPort,
    tls,
    ...(values['http-path'] ? { path: values['http-path'] } : {}),
    ...(values['no-http-cookie-auth'] ? { cookieAuth: false } : {}),
    ...(cookieMaxAge !== undefined ? { cookieMaxAgeSeconds: cookieMaxAge } : {}),
  });
}
if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) fail('--tls-cert and --tls-key go together');
if (values['tls-cert'] !== undefined && !tls) fail('--tls-cert and --tls-key need --tls');
const tlsIdentity = values['tls-cert'] && values['tls-key']
  ? await tlsIdentityFromFiles(values['tls-cert'], values['tls-key']).catch((error: unknown) => fail(`could not read the TLS certificate or key: ${(error as Error).message}`))
  : undefined;
const wantsKerberos = listeners.some((listener) => listener.auth === 'KERBEROS');
if (wantsKerberos && (!values['kerberos-principal'] || !values['kerberos-keytab'])) {
  fail('a KERBEROS listener needs --kerberos-principal (e.g. hive/127.0.0.1@EXAMPLE.TEST) and --kerberos-keytab');
}
const kerberos = wantsKerberos
  ? { principal: values['kerberos-principal']!, keytab: values['kerberos-keytab']!, ...(values['krb5-conf'] ? { krb5Conf: values['krb5-conf'] } : {}) }
  : undefined;

const users: Record<string, string> = {};
const fromEnv = (process.env.HIVE_STAND_IN_USERS ?? '').split(',').filter(Boolean);
for (const pair of [...fromEnv, ...(values.user ?? [])]) {
  const colon = pair.indexOf(':');
  if (colon <= 0) fail(`--user must be name:password, got ${JSON.stringify(pair)}`);
  users[pair.slice(0, colon)] = pair.slice(colon + 1);
}

const adminPort = integer('admin-port', values['admin-port']);
const maxFetchRows = integer('max-fetch-rows', values['max-fetch-rows']);
const standIn = await startHiveStandIn({
  listeners,
  ...(Object.keys(users).length > 0 ? { users } : {}),
  seedRows: integer('seed-rows', values['seed-rows']) ?? DEFAULT_SEED_ROWS,
  ...(values['db-file'] ? { dbFile: values['db-file'] } : {}),
  ...(adminPort !== undefined ? { adminPort } : {}),
  ...(maxFetchRows !== undefined ? { maxFetchRows } : {}),
  ...(hiveVersion ? { hiveVersion } : {}),
  conf,
  proxyUsers,
  ...(tlsIdentity ? { tlsIdentity } : {}),
  ...(kerberos ? { kerberos } : {}),
  log: (line) => process.stderr.write(`hive-stand-in: ${line}\n`),
}).catch((error: unknown) => fail(`could not start: ${(error as Error).message}`));

const ready = {
  listeners: standIn.listeners,
  hiveVersion: standIn.hiveVersion,
  adminUrl: standIn.adminUrl,
  ...(standIn.tlsCa ? { tlsCa: standIn.tlsCa } : {}),
  seedRows: standIn.seedRows,
  reusedDbFile: standIn.reusedDbFile,
};
process.stdout.write(`READY ${JSON.stringify(ready)}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  standIn.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`hive-stand-in: close failed: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

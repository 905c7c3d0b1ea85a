/**
 * A connector VM in a scratch directory, for running the real bootstrap script: its files under
 * a scratch root (ENOS_BOOTSTRAP_ROOT), and the outside world stubbed on PATH. apt-get,
 * systemctl, useradd and chown log their argv (apt-get "installs" kinit with krb5-user); curl
 * answers as IMDS, Blob Storage and Key Vault would, and fails the run for any other URL (a VM
 * without Internet egress reaches nothing else).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BOOTSTRAP_SCRIPT_FILE, renderEnvFile, renderSettingsFile } from '../../infra/connector-bootstrap.js';

export const VAULT = 'https://kvtest.vault.azure.net/';
export const ACCOUNT = 'https://stpkgtest.blob.core.windows.net/';

/** Stub commands: each logs its argv (one line) so tests can check what ran, and what never leaked. */
const LOGGING_STUB = `#!/usr/bin/env bash
printf '%s %s\\n' "$(basename "$0")" "$*" >>"$STUB_LOG"
`;

/** apt-get as a logging stub that, like the real one, leaves kinit on PATH once krb5-user is installed. */
const APT_STUB = `#!/usr/bin/env bash
printf '%s %s\\n' "$(basename "$0")" "$*" >>"$STUB_LOG"
if [[ " $* " == *" install "* && " $* " == *" krb5-user "* ]]; then
  printf '#!/usr/bin/env bash\\nprintf "kinit %%s\\\\n" "$*" >>"$STUB_LOG"\\n' >"$(dirname "$0")/kinit"
  chmod 0755 "$(dirname "$0")/kinit"
fi
`;

const ID_STUB = `#!/usr/bin/env bash
printf 'id %s\\n' "$*" >>"$STUB_LOG"
# The service user exists once useradd has run.
grep -q '^useradd ' "$STUB_LOG" && exit 0
exit 1
`;

/**
 * curl as the VM would see it. Headers arrive as \`-H @file\` (the script never puts a token on a
 * command line); the stub checks the bearer token matches the resource the URL belongs to.
 * Storage and Key Vault answer like the services: a body and a status (printed for \`-w\`), 401
 * for a wrong token, 404 for a missing secret, and 403 while \`$FIXTURES/deny-<host>\` holds a
 * count above zero (a role assignment not yet in force). Any other URL fails, as it would without
 * Internet egress.
 */
const CURL_STUB = `#!/usr/bin/env bash
set -euo pipefail
out='' headers='' url='' write_out=''
while (($# > 0)); do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -w) write_out="$2"; shift 2 ;;
    -H) [[ "$2" == @* ]] || { echo "curl stub: header passed inline: $2" >&2; exit 97; }
        headers+="$(cat "\${2#@}")"$'\\n'; shift 2 ;;
    --retry|--max-time) shift 2 ;;
    -*) shift ;;
    *) url="$1"; shift ;;
  esac
done
printf 'curl %s\\n' "$url" >>"$STUB_LOG"
emit() { if [[ -n "$out" ]]; then cat >"$out"; else cat; fi; }
# A service answer: the body from stdin, then the status for -w (as curl prints it), or 22 under -f.
# It runs at the end of a pipeline (a subshell), so callers exit after it.
answer() {
  emit
  if [[ -n "$write_out" ]]; then printf '%s' "$1"; elif (($1 >= 400)); then return 22; fi
}
bearer() { grep -q "^Authorization: Bearer $1\\$" <<<"$headers" || { echo '{"error":"InvalidAuthenticationInfo"}' | answer 401; exit 0; }; }
denied() {
  local file="$FIXTURES/deny-$1" left
  [[ -f "$file" ]] || return 0
  left="$(cat "$file")"
  ((left > 0)) || return 0
  echo $((left - 1)) >"$file"
  echo '{"error":"AuthorizationPermissionMismatch"}' | answer 403
  exit 0
}
case "$url" in
  http://169.254.169.254/metadata/identity/oauth2/token*)
    grep -q '^Metadata: true$' <<<"$headers" || exit 22
    if [[ -n "\${EXPECT_CLIENT_ID:-}" ]]; then [[ "$url" == *"&client_id=$EXPECT_CLIENT_ID&"* ]] || { echo "curl stub: IMDS call without client_id=$EXPECT_CLIENT_ID" >&2; exit 22; }; fi
    resource="\${url##*resource=}"
    printf '{"access_token":"token-for-%s","token_type":"Bearer"}' "$resource" | emit ;;
  ${ACCOUNT}artifacts/*)
    bearer 'token-for-https%3A%2F%2Fstorage.azure.com%2F'
    denied storage
    answer 200 <"$FIXTURES/bundle/\${url##*/}" ;;
  ${VAULT}secrets/*)
    bearer 'token-for-https%3A%2F%2Fvault.azure.net'
    denied vault
    name="\${url#${VAULT}secrets/}"; name="\${name%%\\?*}"
    [[ -f "$FIXTURES/secrets/$name" ]] || { echo '{"error":{"code":"SecretNotFound"}}' | answer 404; exit 0; }
    python3 -c 'import json, sys; print(json.dumps({"value": open(sys.argv[1]).read(), "id": "x"}))' "$FIXTURES/secrets/$name" | answer 200 ;;
  *) echo "curl stub: no route to $url (only IMDS, the bundles account and Key Vault are reachable)" >&2; exit 7 ;;
esac
`;

/**
 * How the fake bundle's runtime behaves: a working stand-in, none at all, one that cannot run
 * here, or one that runs but cannot load kerberos (a VM without MIT's GSSAPI libraries).
 */
export type StubRuntime = 'working' | 'missing' | 'failing' | 'no-gssapi';

export interface Scratch {
  dir: string;
  root: string;
  fixtures: string;
  log: string;
  env: NodeJS.ProcessEnv;
  bundleSha: string;
  secrets: Record<string, string>;
  /** Adds a bundle zip the artifacts account serves; returns its SHA-256. */
  addBundle(zip: Buffer): string;
}

/**
 * A bundle laid out as `npm run build` makes it (connector/server.js, runtime/bin/node,
 * runtime/self-test.cjs), with a shell script standing in for Node.js that logs its call.
 */
export function stubBundle(dir: string, log: string, runtime: StubRuntime = 'working'): Buffer {
  const stage = mkdtempSync(join(dir, 'bundle-'));
  const connector = join(stage, 'connector');
  mkdirSync(join(connector, 'runtime', 'bin'), { recursive: true });
  writeFileSync(join(connector, 'server.js'), "console.log('connector');\n");
  writeFileSync(join(connector, 'package.json'), '{"type":"module"}\n');
  if (runtime !== 'missing') {
    const kerberos =
      runtime === 'no-gssapi'
        ? 'echo "Error: libgssapi_krb5.so.2: cannot open shared object file: No such file or directory" >&2; exit 1'
        : 'k=", kerberos 7.0.0 (MIT GSSAPI)"';
    const body =
      runtime === 'failing'
        ? 'echo "cannot open shared object file: better_sqlite3.node" >&2; exit 1'
        : `k=''; case " $* " in *" --kerberos "*) ${kerberos} ;; esac; echo "node v22.23.5 (modules 127, linux-x64), SQLite 3.53.2$k"`;
    writeFileSync(join(connector, 'runtime', 'bin', 'node'), `#!/bin/sh\necho "node $* (in $PWD)" >>"${log}"\n${body}\n`);
    writeFileSync(join(connector, 'runtime', 'self-test.cjs'), '// stand-in\n');
  }
  execFileSync('python3', ['-m', 'zipfile', '-c', join(stage, 'connector.zip'), connector]);
  return readFileSync(join(stage, 'connector.zip'));
}

/**
 * `stubs`: more commands to stub with a logging stub (e.g. kinit on an image that carries it);
 * `pathWithout`: commands of this machine left off PATH (an image that lacks them).
 */
export function makeScratch(options: { runtime?: StubRuntime; bundle?: Buffer; pathWithout?: string[]; stubs?: string[] } = {}): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-'));
  const root = join(dir, 'root');
  const bin = join(dir, 'bin');
  const fixtures = join(dir, 'fixtures');
  const log = join(dir, 'stub.log');
  for (const path of [root, bin, join(fixtures, 'bundle'), join(fixtures, 'secrets')]) mkdirSync(path, { recursive: true });
  writeFileSync(log, '');

  for (const name of ['systemctl', 'useradd', 'chown', ...(options.stubs ?? [])]) writeFileSync(join(bin, name), LOGGING_STUB, { mode: 0o755 });
  writeFileSync(join(bin, 'apt-get'), APT_STUB, { mode: 0o755 });
  writeFileSync(join(bin, 'id'), ID_STUB, { mode: 0o755 });
  writeFileSync(join(bin, 'curl'), CURL_STUB, { mode: 0o755 });

  const addBundle = (zip: Buffer): string => {
    const sha = createHash('sha256').update(zip).digest('hex');
    writeFileSync(join(fixtures, 'bundle', `${sha}.zip`), zip);
    return sha;
  };
  const bundleSha = addBundle(options.bundle ?? stubBundle(dir, log, options.runtime));

  // Secret values chosen to break naive quoting: quotes, backslashes, dollars, spaces.
  const secrets: Record<string, string> = {
    'enos-app-secret': `enos"app'secret\\with $HOME and spaces-${randomBytes(6).toString('hex')}`,
    'session-signing-key': randomBytes(32).toString('base64'),
    'url-signing-key': randomBytes(32).toString('base64'),
    'file-encryption-key': randomBytes(32).toString('base64'),
    'hive-password': `hive-${randomBytes(9).toString('base64')}`,
    'connector-tls': [
      '-----BEGIN PRIVATE KEY-----',
      `KEY${randomBytes(24).toString('base64')}`,
      '-----END PRIVATE KEY-----',
      '-----BEGIN CERTIFICATE-----',
      `CERT${randomBytes(24).toString('base64')}`,
      '-----END CERTIFICATE-----',
    ].join('\n'),
  };
  for (const [name, value] of Object.entries(secrets)) writeFileSync(join(fixtures, 'secrets', name), value);

  const env = {
    PATH: `${bin}${delimiter}${options.pathWithout ? restrictedPath(dir, options.pathWithout) : (process.env.PATH ?? '')}`,
    HOME: dir,
    ENOS_BOOTSTRAP_ROOT: root,
    STUB_LOG: log,
    FIXTURES: fixtures,
  };
  return { dir, root, fixtures, log, env, bundleSha, secrets, addBundle };
}

/** A PATH with every command of this machine's PATH except `without` (an image that lacks them). */
function restrictedPath(dir: string, without: string[]): string {
  const target = join(dir, 'system-bin');
  mkdirSync(target);
  for (const source of (process.env.PATH ?? '').split(delimiter).reverse()) {
    let entries: string[];
    try {
      entries = readdirSync(source);
    } catch {
      continue;
    }
    for (const name of entries) {
      if (without.includes(name)) continue;
      try {
        symlinkSync(join(source, name), join(target, name));
      } catch {
        // An earlier PATH entry of the same name wins, as in a shell.
      }
    }
  }
  return target;
}

export function run(scratch: Scratch, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const result = spawnSync('bash', [BOOTSTRAP_SCRIPT_FILE, ...args], { env: { ...scratch.env, ...env }, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export function deployArgs(scratch: Scratch, tlsMode: 'acme' | 'keyvault', sha = scratch.bundleSha, extraSettings: Record<string, string> = {}): string[] {
  const settings = renderSettingsFile({
    BUNDLE_URL: `${ACCOUNT}artifacts/connector/${sha}.zip`,
    BUNDLE_SHA256: sha,
    TLS_MODE: tlsMode,
    CONNECTOR_PORT: tlsMode === 'keyvault' ? '443' : '8080',
    KEY_VAULT_URL: VAULT,
    SECRET_MAP:
      'ENOS_APP_SECRET=enos-app-secret SESSION_SIGNING_KEY=session-signing-key URL_SIGNING_KEY=url-signing-key FILE_ENCRYPTION_KEY=file-encryption-key HIVE_PASSWORD=hive-password',
    ...(tlsMode === 'keyvault' ? { TLS_SECRET_NAME: 'connector-tls' } : { ACME_DOMAIN: 'enos-export.westeurope.cloudapp.azure.com', ACME_EMAIL: 'ops@example.com' }),
    ...extraSettings,
  });
  const connectorEnv = renderEnvFile({ PORT: '443', STORAGE_METHOD: 'blob', ORG_ACCESS: '{"demo-org":{"databases":["enos"]}}' });
  return ['deploy', '--bootstrap-env-b64', Buffer.from(settings).toString('base64'), '--connector-env-b64', Buffer.from(connectorEnv).toString('base64')];
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every URL the stubbed curl was asked for. */
export function curlUrls(scratch: Scratch): string[] {
  return readFileSync(scratch.log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('curl '))
    .map((line) => line.slice(5));
}

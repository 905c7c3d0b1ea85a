/**
 * The VM bootstrap script, for real: shellcheck on it and on the extension script the stack
 * renders, then `prepare`, `deploy` and `fetch-secrets` run against a scratch root with apt-get,
 * systemctl, useradd and chown stubbed, and curl stubbed as IMDS, nodejs.org, Blob Storage and
 * Key Vault. It proves the script installs Node.js and the bundle, writes a hardened unit, and
 * never puts a secret on disk (outside the tmpfs /run) or on a command line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOOTSTRAP_SCRIPT_FILE,
  renderCloudInit,
  renderEnvFile,
  renderExtensionScript,
  renderSettingsFile,
} from '../../infra/connector-bootstrap.js';

const NODE_VERSION = '22.12.0';
const VAULT = 'https://kvtest.vault.azure.net/';
const ACCOUNT = 'https://sttest.blob.core.windows.net/';

function requireShellcheck(): void {
  const probe = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('shellcheck is not installed; expected it on PATH (apt-get install -y shellcheck; .ci/run installs it)');
  }
}

/** Stub commands: each logs its argv (one line) so tests can check what ran, and what never leaked. */
const LOGGING_STUB = `#!/usr/bin/env bash
printf '%s %s\\n' "$(basename "$0")" "$*" >>"$STUB_LOG"
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
 * count above zero (a role assignment not yet in force).
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
  https://nodejs.org/dist/v*/SHASUMS256.txt) emit <"$FIXTURES/SHASUMS256.txt" ;;
  https://nodejs.org/dist/v*/node-v*-linux-*.tar.xz) emit <"$FIXTURES/node.tar.xz" ;;
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
  *) echo "curl stub: unexpected URL $url" >&2; exit 22 ;;
esac
`;

interface Scratch {
  dir: string;
  root: string;
  fixtures: string;
  log: string;
  env: NodeJS.ProcessEnv;
  bundleSha: string;
  secrets: Record<string, string>;
}

function makeScratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-'));
  const root = join(dir, 'root');
  const bin = join(dir, 'bin');
  const fixtures = join(dir, 'fixtures');
  const log = join(dir, 'stub.log');
  for (const path of [root, bin, join(fixtures, 'bundle'), join(fixtures, 'secrets')]) mkdirSync(path, { recursive: true });
  writeFileSync(log, '');

  for (const name of ['apt-get', 'systemctl', 'useradd', 'chown']) writeFileSync(join(bin, name), LOGGING_STUB, { mode: 0o755 });
  writeFileSync(join(bin, 'id'), ID_STUB, { mode: 0o755 });
  writeFileSync(join(bin, 'curl'), CURL_STUB, { mode: 0o755 });

  // A Node.js "release": a tarball with bin/node, and the SHASUMS256.txt that vouches for it.
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const release = `node-v${NODE_VERSION}-linux-${arch}`;
  const stage = join(dir, 'stage');
  mkdirSync(join(stage, release, 'bin'), { recursive: true });
  writeFileSync(join(stage, release, 'bin', 'node'), `#!/bin/sh\necho v${NODE_VERSION}\n`, { mode: 0o755 });
  // npm as the tarball ships it; the stub logs its arguments and lays out the native module.
  writeFileSync(
    join(stage, release, 'bin', 'npm'),
    `#!/bin/sh\necho "npm $* (in $PWD)" >>"${log}"\nmkdir -p node_modules/better-sqlite3 && echo '{}' >node_modules/better-sqlite3/package.json\n`,
    { mode: 0o755 },
  );
  execFileSync('tar', ['-cJf', join(fixtures, 'node.tar.xz'), '-C', stage, release]);
  const tarSha = createHash('sha256').update(readFileSync(join(fixtures, 'node.tar.xz'))).digest('hex');
  writeFileSync(join(fixtures, 'SHASUMS256.txt'), `${'0'.repeat(64)}  node-v${NODE_VERSION}-darwin-arm64.tar.gz\n${tarSha}  ${release}.tar.xz\n`);

  // The connector bundle as `npm run build` lays it out: connector/server.js inside the zip.
  mkdirSync(join(stage, 'connector'), { recursive: true });
  writeFileSync(join(stage, 'connector', 'server.js'), "console.log('connector');\n");
  writeFileSync(join(stage, 'connector', 'package.json'), '{"type":"module","dependencies":{"better-sqlite3":"12.11.1"}}\n');
  execFileSync('python3', ['-m', 'zipfile', '-c', join(dir, 'connector.zip'), join(stage, 'connector')]);
  const bundle = readFileSync(join(dir, 'connector.zip'));
  const bundleSha = createHash('sha256').update(bundle).digest('hex');
  writeFileSync(join(fixtures, 'bundle', `${bundleSha}.zip`), bundle);

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
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: dir,
    ENOS_BOOTSTRAP_ROOT: root,
    STUB_LOG: log,
    FIXTURES: fixtures,
  };
  return { dir, root, fixtures, log, env, bundleSha, secrets };
}

function run(scratch: Scratch, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  const result = spawnSync('bash', [BOOTSTRAP_SCRIPT_FILE, ...args], { env: { ...scratch.env, ...env }, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function deployArgs(scratch: Scratch, tlsMode: 'acme' | 'keyvault', sha = scratch.bundleSha, extraSettings: Record<string, string> = {}): string[] {
  const settings = renderSettingsFile({
    BUNDLE_URL: `${ACCOUNT}artifacts/connector/${sha}.zip`,
    BUNDLE_SHA256: sha,
    NODE_VERSION,
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

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('VM bootstrap script', () => {
  beforeAll(() => requireShellcheck());

  it('passes shellcheck', () => {
    const result = spawnSync('shellcheck', ['--severity=style', BOOTSTRAP_SCRIPT_FILE], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('the extension script the stack renders passes shellcheck too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'extension-'));
    try {
      const file = join(dir, 'extension.sh');
      writeFileSync(file, renderExtensionScript({ bootstrapEnvBase64: 'QkFTRTY0', connectorEnvBase64: 'QkFTRTY0' }));
      const result = spawnSync('shellcheck', ['--severity=style', file], { encoding: 'utf8' });
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cloud-init carries the script byte for byte and only runs prepare', () => {
    const cloudInit = renderCloudInit({ nodeVersion: NODE_VERSION, tlsMode: 'keyvault' });
    const content = /content: (\S+)/.exec(cloudInit)?.[1] ?? '';
    expect(Buffer.from(content, 'base64').toString('utf8')).toBe(readFileSync(BOOTSTRAP_SCRIPT_FILE, 'utf8'));
    expect(cloudInit).toContain(`- [/usr/local/sbin/enos-connector-bootstrap, prepare, --node-version, '${NODE_VERSION}', --tls-mode, keyvault]`);
  });

  describe('with its own certificate from Key Vault', () => {
    let scratch: Scratch;
    const outputs: string[] = [];
    beforeAll(() => {
      scratch = makeScratch();
      for (const args of [['prepare', '--node-version', NODE_VERSION, '--tls-mode', 'keyvault'], deployArgs(scratch, 'keyvault'), ['fetch-secrets']]) {
        const result = run(scratch, args);
        outputs.push(result.output);
        if (result.status !== 0) throw new Error(`bootstrap ${args[0]} exited ${result.status}:\n${result.output}`);
      }
    });
    afterAll(() => rmSync(scratch.dir, { recursive: true, force: true }));

    it('installs Node.js 22 from the checked tarball', () => {
      const link = readlinkSync(join(scratch.root, 'usr/local/bin/node'));
      expect(link).toBe(join(scratch.root, `opt/nodejs/v${NODE_VERSION}/bin/node`));
      expect(execFileSync(link, { encoding: 'utf8' }).trim()).toBe(`v${NODE_VERSION}`);
      const log = readFileSync(scratch.log, 'utf8');
      expect(log).toMatch(/^apt-get install -y -q --no-install-recommends ca-certificates curl python3 xz-utils make g\+\+$/m);
      expect(log).toMatch(/^useradd --system .* enos-connector$/m);
    });

    it('installs the bundle from the artifacts container as the current release', () => {
      const current = readlinkSync(join(scratch.root, 'opt/enos-connector/current'));
      expect(current).toBe(join(scratch.root, 'opt/enos-connector/releases', scratch.bundleSha));
      expect(readFileSync(join(current, 'server.js'), 'utf8')).toContain("console.log('connector')");
      // Code is not writable by the service (or anyone but root).
      expect(statSync(join(current, 'server.js')).mode & 0o022).toBe(0);
    });

    it("installs the bundle's native dependency for this VM's Node.js with the npm that came with it", () => {
      const current = readlinkSync(join(scratch.root, 'opt/enos-connector/current'));
      expect(readFileSync(join(current, 'node_modules/better-sqlite3/package.json'), 'utf8')).toBe('{}\n');
      expect(readFileSync(scratch.log, 'utf8')).toMatch(/^npm install --omit=dev --no-audit --no-fund --no-package-lock \(in .*releases\/[0-9a-f]{64}\.tmp\)$/m);
    });

    it('writes a hardened systemd unit that fetches secrets before each start', () => {
      const unit = readFileSync(join(scratch.root, 'etc/systemd/system/enos-connector.service'), 'utf8');
      for (const line of [
        'User=enos-connector',
        'ExecStartPre=+/usr/local/sbin/enos-connector-bootstrap fetch-secrets',
        'ExecStart=/usr/local/bin/node /opt/enos-connector/current/server.js',
        'EnvironmentFile=/etc/enos-connector/connector.env',
        'EnvironmentFile=-/run/enos-connector/secrets.env',
        'Restart=on-failure',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'NoNewPrivileges=yes',
        'PrivateTmp=yes',
        'RuntimeDirectoryMode=0700',
        'TimeoutStartSec=15min',
        'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
        'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      ]) {
        expect(unit.split('\n')).toContain(line);
      }
      const log = readFileSync(scratch.log, 'utf8');
      expect(log).toContain('systemctl daemon-reload');
      expect(log).toContain('systemctl enable enos-connector.service');
      expect(log).toContain('systemctl restart enos-connector.service');
      expect(log).not.toContain('caddy');
    });

    it('writes the non-secret settings it was given', () => {
      expect(readFileSync(join(scratch.root, 'etc/enos-connector/connector.env'), 'utf8')).toBe(
        `PORT='443'\nSTORAGE_METHOD='blob'\nORG_ACCESS='{"demo-org":{"databases":["enos"]}}'\n`,
      );
      expect(readFileSync(join(scratch.root, 'etc/enos-connector/bootstrap.env'), 'utf8')).toContain(`BUNDLE_SHA256=${scratch.bundleSha}\n`);
    });

    it('puts the secrets only in the root-only runtime directory, quoted for systemd', () => {
      const secretsFile = join(scratch.root, 'run/enos-connector/secrets.env');
      expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(scratch.root, 'run/enos-connector')).mode & 0o777).toBe(0o700);
      const lines = readFileSync(secretsFile, 'utf8').trimEnd().split('\n');
      const escaped = (value: string): string => value.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
      expect(lines).toEqual([
        `ENOS_APP_SECRET="${escaped(scratch.secrets['enos-app-secret'] ?? '')}"`,
        `SESSION_SIGNING_KEY="${scratch.secrets['session-signing-key']}"`,
        `URL_SIGNING_KEY="${scratch.secrets['url-signing-key']}"`,
        `FILE_ENCRYPTION_KEY="${scratch.secrets['file-encryption-key']}"`,
        `HIVE_PASSWORD="${scratch.secrets['hive-password']}"`,
      ]);
      const tls = readFileSync(join(scratch.root, 'run/enos-connector/tls/key.pem'), 'utf8');
      expect(tls.startsWith('-----BEGIN PRIVATE KEY-----\nKEY')).toBe(true);
      expect(readFileSync(join(scratch.root, 'run/enos-connector/tls/cert.pem'), 'utf8')).not.toContain('PRIVATE KEY');
      expect(statSync(join(scratch.root, 'run/enos-connector/tls/key.pem')).mode & 0o777).toBe(0o400);
    });

    it('never writes a secret to disk outside /run, to a command line, or to its output', () => {
      const values = Object.values(scratch.secrets).flatMap((value) => value.split('\n').filter((line) => !line.startsWith('-----')));
      const persistent = filesUnder(scratch.root).filter((file) => !relative(scratch.root, file).startsWith('run/'));
      expect(persistent.length).toBeGreaterThan(5);
      for (const file of persistent) {
        const content = readFileSync(file, 'latin1');
        for (const value of values) expect(content.includes(value), `${relative(scratch.root, file)} holds a secret`).toBe(false);
      }
      // Every stubbed command logged its arguments: no secret, no token among them.
      const argv = readFileSync(scratch.log, 'utf8');
      for (const value of [...values, 'token-for-']) expect(argv).not.toContain(value);
      for (const output of outputs) for (const value of values) expect(output).not.toContain(value);
    });

    it('a second deploy of the same bundle downloads nothing and restarts the service', () => {
      writeFileSync(scratch.log, '');
      const result = run(scratch, deployArgs(scratch, 'keyvault'));
      expect(result.status).toBe(0);
      const log = readFileSync(scratch.log, 'utf8');
      expect(log).not.toMatch(/^curl /m);
      expect(log).toContain('systemctl restart enos-connector.service');
    });

    it('refuses a bundle whose hash does not match and keeps the current release', () => {
      const wrong = 'f'.repeat(64);
      writeFileSync(join(scratch.fixtures, 'bundle', `${wrong}.zip`), readFileSync(join(scratch.fixtures, 'bundle', `${scratch.bundleSha}.zip`)));
      const result = run(scratch, deployArgs(scratch, 'keyvault', wrong));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`does not match the expected SHA-256 ${wrong}`);
      expect(readlinkSync(join(scratch.root, 'opt/enos-connector/current'))).toBe(join(scratch.root, 'opt/enos-connector/releases', scratch.bundleSha));
    });

    it('fails clearly when a secret is missing from Key Vault, leaving no partial secrets file', () => {
      rmSync(join(scratch.root, 'run/enos-connector/secrets.env'));
      rmSync(join(scratch.fixtures, 'secrets', 'hive-password'));
      const result = run(scratch, ['fetch-secrets']);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain("could not read secret 'hive-password'");
      expect(readdirSync(join(scratch.root, 'run/enos-connector')).filter((name) => name.startsWith('secrets'))).toEqual([]);
    });
  });

  describe("while the identity's new role assignments are not in force yet", () => {
    let scratch: Scratch;
    // No real waiting in tests; the VM waits AUTH_RETRY_SECONDS (30 s) between tries.
    const fast = { ENOS_BOOTSTRAP_AUTH_RETRY_SECONDS: '0' };
    beforeAll(() => {
      scratch = makeScratch();
      const result = run(scratch, ['prepare', '--node-version', NODE_VERSION, '--tls-mode', 'keyvault']);
      if (result.status !== 0) throw new Error(`bootstrap prepare exited ${result.status}:\n${result.output}`);
    });
    afterAll(() => rmSync(scratch.dir, { recursive: true, force: true }));

    it('deploy waits out 403s from Blob Storage, then installs the bundle', () => {
      writeFileSync(join(scratch.fixtures, 'deny-storage'), '2');
      const result = run(scratch, deployArgs(scratch, 'keyvault'), fast);
      expect(result.status, result.output).toBe(0);
      expect(result.output.match(/answered HTTP 403 \(a new role assignment may not be in force yet\)/g)).toHaveLength(2);
      expect(readlinkSync(join(scratch.root, 'opt/enos-connector/current'))).toBe(join(scratch.root, 'opt/enos-connector/releases', scratch.bundleSha));
    });

    it('fetch-secrets waits out 403s from Key Vault and leaves no response file behind', () => {
      writeFileSync(join(scratch.fixtures, 'deny-vault'), '3');
      const result = run(scratch, ['fetch-secrets'], fast);
      expect(result.status, result.output).toBe(0);
      expect(result.output.match(/answered HTTP 403/g)).toHaveLength(3);
      expect(readFileSync(join(scratch.root, 'run/enos-connector/secrets.env'), 'utf8')).toContain('SESSION_SIGNING_KEY="');
      expect(readdirSync(join(scratch.root, 'run/enos-connector')).sort()).toEqual(['secrets.env', 'tls']);
    });

    it('gives up after its tries with a message that names the cause, installing nothing', () => {
      const other = 'e'.repeat(64);
      writeFileSync(join(scratch.fixtures, 'deny-storage'), '99');
      const result = run(scratch, deployArgs(scratch, 'keyvault', other), { ...fast, ENOS_BOOTSTRAP_AUTH_ATTEMPTS: '3' });
      expect(result.status).not.toBe(0);
      expect(result.output).toContain("still answers HTTP 403 after 3 tries; expected the managed identity's role assignment to be in force");
      expect(result.output).toContain('could not download the connector bundle');
      expect(readlinkSync(join(scratch.root, 'opt/enos-connector/current'))).toBe(join(scratch.root, 'opt/enos-connector/releases', scratch.bundleSha));
    });

    it('asks IMDS for the user-assigned identity named by IDENTITY_CLIENT_ID (scale sets)', () => {
      writeFileSync(join(scratch.fixtures, 'deny-storage'), '0');
      const clientId = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
      writeFileSync(scratch.log, '');
      const deploy = run(scratch, deployArgs(scratch, 'keyvault', scratch.bundleSha, { IDENTITY_CLIENT_ID: clientId }), { EXPECT_CLIENT_ID: clientId });
      expect(deploy.status, deploy.output).toBe(0);
      const secrets = run(scratch, ['fetch-secrets'], { EXPECT_CLIENT_ID: clientId });
      expect(secrets.status, secrets.output).toBe(0);
      expect(readFileSync(scratch.log, 'utf8')).toContain(`curl http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&client_id=${clientId}&resource=https%3A%2F%2Fvault.azure.net`);
    });
  });

  describe('with an ACME certificate through Caddy', () => {
    let scratch: Scratch;
    beforeAll(() => {
      scratch = makeScratch();
      const result = run(scratch, deployArgs(scratch, 'acme'));
      if (result.status !== 0) throw new Error(`bootstrap deploy exited ${result.status}:\n${result.output}`);
    });
    afterAll(() => rmSync(scratch.dir, { recursive: true, force: true }));

    it('deploy prepares the machine itself when cloud-init has not, Caddy included', () => {
      expect(readFileSync(scratch.log, 'utf8')).toMatch(/^apt-get install .* caddy$/m);
      expect(readlinkSync(join(scratch.root, 'usr/local/bin/node'))).toContain(`v${NODE_VERSION}`);
    });

    it('fronts the loopback-only connector with Caddy, TLS-ALPN only', () => {
      const caddyfile = readFileSync(join(scratch.root, 'etc/caddy/Caddyfile'), 'utf8');
      expect(caddyfile).toContain('enos-export.westeurope.cloudapp.azure.com {');
      expect(caddyfile).toContain('reverse_proxy 127.0.0.1:8080');
      expect(caddyfile).toContain('disable_http_challenge');
      expect(caddyfile).toContain('email ops@example.com');
      const unit = readFileSync(join(scratch.root, 'etc/systemd/system/enos-connector.service'), 'utf8');
      expect(unit.split('\n')).toContain('CapabilityBoundingSet=');
      expect(readFileSync(scratch.log, 'utf8')).toContain('systemctl restart caddy');
    });
  });
});

// Cloud-init and the extension write their own copies, but people run the file from the repo too.
describe('bootstrap script file', () => {
  it('is executable', () => {
    expect(statSync(BOOTSTRAP_SCRIPT_FILE).mode & 0o111).not.toBe(0);
  });
});

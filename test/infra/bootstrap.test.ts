/**
 * The VM bootstrap script, for real: shellcheck on it and on the extension script the stack
 * renders, then `prepare`, `deploy` and `fetch-secrets` run against a scratch root with apt-get,
 * systemctl, useradd and chown stubbed, and curl stubbed as IMDS, Blob Storage and Key Vault (any
 * other host is unreachable, as on a VM without Internet egress). It proves the script installs
 * the bundle only once its own runtime passes its self-test, writes a hardened unit, calls apt
 * only for what the image lacks (and then waits for the dpkg lock), refuses a TLS key the
 * connector cannot load, sets Hive up for Kerberos (kinit, krb5.conf, the kerberos module) and
 * its CA bundle only when configured, and never puts a secret on disk (outside the tmpfs /run) or
 * on a command line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_SCRIPT_FILE, HIVE_TLS_CA_SECRET_NAME, SECRET_ENV, VM_PATHS, renderCloudInit, renderExtensionScript } from '../../infra/connector-bootstrap.js';
import { KRB5_CONF, keytabBase64, testCaPem } from './hive-fixtures.js';
import { ACCOUNT, VAULT, curlUrls, deployArgs, filesUnder, makeScratch, run, stubBundle, type Scratch } from './vm-scratch.js';

function requireTool(tool: string, packageName: string): void {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (probe.error) throw new Error(`${tool} is not installed; expected it on PATH (apt-get install -y ${packageName}; .ci/run installs it)`);
}

const PREPARE = ['prepare', '--tls-mode', 'keyvault'];

describe('VM bootstrap script', () => {
  beforeAll(() => requireTool('shellcheck', 'shellcheck'));

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
    const cloudInit = renderCloudInit({ tlsMode: 'keyvault' });
    const content = /content: (\S+)/.exec(cloudInit)?.[1] ?? '';
    expect(Buffer.from(content, 'base64').toString('utf8')).toBe(readFileSync(BOOTSTRAP_SCRIPT_FILE, 'utf8'));
    expect(cloudInit).toContain('- [/usr/local/sbin/enos-connector-bootstrap, prepare, --tls-mode, keyvault]');
  });

  describe('with its own certificate from Key Vault', () => {
    let scratch: Scratch;
    const outputs: string[] = [];
    beforeAll(() => {
      scratch = makeScratch();
      for (const args of [PREPARE, deployArgs(scratch, 'keyvault'), ['fetch-secrets']]) {
        const result = run(scratch, args);
        outputs.push(result.output);
        if (result.status !== 0) throw new Error(`bootstrap ${args[0]} exited ${result.status}:\n${result.output}`);
      }
    });
    afterAll(() => rmSync(scratch.dir, { recursive: true, force: true }));

    it('needs nothing from the Internet: no apt (the image has what it needs), only IMDS, the bundles account and Key Vault', () => {
      const log = readFileSync(scratch.log, 'utf8');
      expect(log).not.toMatch(/^apt-get /m);
      expect(outputs[0]).toContain('the image has every package this script needs; apt is not used');
      expect(log).toMatch(/^useradd --system .* enos-connector$/m);
      const urls = curlUrls(scratch);
      expect(urls.length).toBeGreaterThan(5);
      for (const url of urls) expect(url.startsWith('http://169.254.169.254/') || url.startsWith(ACCOUNT) || url.startsWith(VAULT), url).toBe(true);
    });

    it('installs the bundle from the artifacts container as the current release', () => {
      const current = readlinkSync(join(scratch.root, 'opt/enos-connector/current'));
      expect(current).toBe(join(scratch.root, 'opt/enos-connector/releases', scratch.bundleSha));
      expect(readFileSync(join(current, 'server.js'), 'utf8')).toContain("console.log('connector')");
      // Code is not writable by the service (or anyone but root).
      expect(statSync(join(current, 'server.js')).mode & 0o022).toBe(0);
    });

    it("runs the bundle's own runtime self-test before the release becomes current, and installs nothing with npm", () => {
      const current = readlinkSync(join(scratch.root, 'opt/enos-connector/current'));
      expect(readFileSync(scratch.log, 'utf8')).toMatch(new RegExp(`^node runtime/self-test\\.cjs \\(in .*releases/${scratch.bundleSha}\\.tmp\\)$`, 'm'));
      expect(readFileSync(scratch.log, 'utf8')).not.toMatch(/^npm /m);
      // The zip kept no mode; the runtime is made executable, and is not writable but by root.
      expect(statSync(join(current, 'runtime/bin/node')).mode & 0o777).toBe(0o755);
      expect(outputs[1]).toContain('bundle runtime: node v22.23.5 (modules 127, linux-x64)');
    });

    it('writes a hardened systemd unit that fetches secrets before each start', () => {
      const unit = readFileSync(join(scratch.root, 'etc/systemd/system/enos-connector.service'), 'utf8');
      for (const line of [
        'User=enos-connector',
        'ExecStartPre=+/usr/local/sbin/enos-connector-bootstrap fetch-secrets',
        'ExecStart=/opt/enos-connector/current/runtime/bin/node /opt/enos-connector/current/server.js',
        'Environment=MALLOC_MMAP_THRESHOLD_=131072',
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
      // The export benchmark measures the bundle as this unit runs it.
      const bench = readFileSync(join(import.meta.dirname, '../../scripts/bench/export.ts'), 'utf8');
      expect(bench).toContain(`MALLOC_MMAP_THRESHOLD_: '${/^Environment=MALLOC_MMAP_THRESHOLD_=(\d+)$/m.exec(unit)?.[1]}'`);
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
      const result = run(scratch, PREPARE);
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

    it('deploy prepares the machine itself when cloud-init has not: Caddy from apt, waiting for the dpkg lock', () => {
      const apt = readFileSync(scratch.log, 'utf8').split('\n').filter((line) => line.startsWith('apt-get '));
      // On first boot unattended-upgrades holds the lock; without a timeout apt fails at once.
      expect(apt).toEqual([
        'apt-get -o DPkg::Lock::Timeout=600 update -q',
        'apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends caddy',
      ]);
      expect(readlinkSync(join(scratch.root, 'opt/enos-connector/current'))).toContain(scratch.bundleSha);
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

describe('packages: apt only for what the image lacks', () => {
  it('installs just the missing package, waiting for the dpkg lock', () => {
    const scratch = makeScratch({ pathWithout: ['openssl'] });
    try {
      const result = run(scratch, PREPARE);
      expect(result.status, result.output).toBe(0);
      expect(readFileSync(scratch.log, 'utf8').split('\n').filter((line) => line.startsWith('apt-get '))).toEqual([
        'apt-get -o DPkg::Lock::Timeout=600 update -q',
        'apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends openssl',
      ]);
    } finally {
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  });
});

describe('a bundle that cannot run on the VM', () => {
  let scratch: Scratch;
  beforeAll(() => {
    scratch = makeScratch();
    const result = run(scratch, deployArgs(scratch, 'keyvault'));
    if (result.status !== 0) throw new Error(`bootstrap deploy exited ${result.status}:\n${result.output}`);
  });
  afterAll(() => rmSync(scratch.dir, { recursive: true, force: true }));
  const current = () => readlinkSync(join(scratch.root, 'opt/enos-connector/current'));

  it.each([
    ['without its Node.js runtime (a bundle from before the runtime was bundled)', 'missing', 'the bundle has no runtime/bin/node and runtime/self-test.cjs'],
    ['whose runtime fails its self-test', 'failing', "the bundle's runtime failed its self-test"],
  ] as const)('refuses a bundle %s and keeps the current release', (_name, runtime, message) => {
    const sha = scratch.addBundle(stubBundle(scratch.dir, scratch.log, runtime));
    writeFileSync(scratch.log, '');
    const result = run(scratch, deployArgs(scratch, 'keyvault', sha));
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(message);
    expect(result.output).toContain(`bundle ${sha} cannot run on this VM; the current release stays`);
    expect(current()).toBe(join(scratch.root, 'opt/enos-connector/releases', scratch.bundleSha));
    expect(readdirSync(join(scratch.root, 'opt/enos-connector/releases'))).toEqual([scratch.bundleSha]);
    expect(readFileSync(scratch.log, 'utf8')).not.toContain('systemctl restart enos-connector.service');
  });
});

describe('the TLS key and chain from Key Vault', () => {
  let scratch: Scratch;
  let pki: string;
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  beforeAll(() => {
    requireTool('openssl', 'openssl');
    scratch = makeScratch();
    pki = mkdtempSync(join(tmpdir(), 'pki-'));
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=enos-export.example.internal');
    const prepared = run(scratch, PREPARE);
    if (prepared.status !== 0) throw new Error(prepared.output);
  });
  afterAll(() => {
    rmSync(scratch.dir, { recursive: true, force: true });
    rmSync(pki, { recursive: true, force: true });
  });
  const fetchWith = (value: string) => {
    writeFileSync(join(scratch.fixtures, 'secrets', 'connector-tls'), value);
    return run(scratch, ['fetch-secrets']);
  };
  const tlsFile = (name: string) => readFileSync(join(scratch.root, 'run/enos-connector/tls', name), 'utf8');
  // One ordinary secret beside the TLS one keeps each fetch short.
  const deployed = () => {
    const result = run(scratch, deployArgs(scratch, 'keyvault', scratch.bundleSha, { SECRET_MAP: 'SESSION_SIGNING_KEY=session-signing-key' }));
    if (result.status !== 0) throw new Error(result.output);
  };

  it('takes an unencrypted PEM key and chain', () => {
    deployed();
    const result = fetchWith(`${readFileSync(join(pki, 'key.pem'), 'utf8')}${readFileSync(join(pki, 'cert.pem'), 'utf8')}`);
    expect(result.status, result.output).toBe(0);
    expect(tlsFile('key.pem')).toBe(readFileSync(join(pki, 'key.pem'), 'utf8'));
    expect(tlsFile('cert.pem')).toBe(readFileSync(join(pki, 'cert.pem'), 'utf8'));
  });

  it('refuses an encrypted PKCS#8 key, which the connector cannot load, saying why', () => {
    const encrypted = execFileSync('openssl', ['pkcs8', '-topk8', '-in', 'key.pem', '-passout', 'pass:secret-pass', '-v2', 'aes-256-cbc'], { cwd: pki, encoding: 'utf8' });
    expect(encrypted).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    const result = fetchWith(`${encrypted}${readFileSync(join(pki, 'cert.pem'), 'utf8')}`);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("TLS secret 'connector-tls' holds an encrypted private key; expected an unencrypted one");
  });

  it('refuses a legacy encrypted PEM key (Proc-Type 4,ENCRYPTED)', () => {
    const legacy = ['-----BEGIN RSA PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED', 'DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF', '', 'AAAA', '-----END RSA PRIVATE KEY-----', ''].join('\n');
    const result = fetchWith(`${legacy}${readFileSync(join(pki, 'cert.pem'), 'utf8')}`);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('holds an encrypted private key');
  });

  it("takes a Key Vault certificate's PKCS#12 secret (base64, no password) and splits it into key and chain", () => {
    const pfx = execFileSync('openssl', ['pkcs12', '-export', '-inkey', 'key.pem', '-in', 'cert.pem', '-passout', 'pass:'], { cwd: pki });
    const result = fetchWith(pfx.toString('base64'));
    expect(result.status, result.output).toBe(0);
    expect(tlsFile('key.pem')).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    // The same certificate as went in.
    const fingerprint = (file: string) => execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', file], { encoding: 'utf8' });
    expect(fingerprint(join(scratch.root, 'run/enos-connector/tls/cert.pem'))).toBe(fingerprint(join(pki, 'cert.pem')));
    // No key material on the command lines the stubs saw.
    expect(readFileSync(scratch.log, 'utf8')).not.toContain('PRIVATE KEY');
  });

  it('refuses a secret that is neither PEM nor PKCS#12', () => {
    const result = fetchWith('not a certificate');
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("TLS secret 'connector-tls' is neither PEM nor a PKCS#12 certificate without a password");
  });
});

describe('Hive with Kerberos and its CA bundle', () => {
  const ca = testCaPem().trim();
  const caSha = createHash('sha256').update(ca).digest('hex');
  const keytab = keytabBase64();
  /** bootstrap.env for Kerberos (kinit from `kinit`) and the Hive CA, as the stack writes it (hive.test.ts). */
  const hiveSettings = (kinit: 'apt' | 'image'): Record<string, string> => ({
    SECRET_MAP: `SESSION_SIGNING_KEY=session-signing-key HIVE_KERBEROS_KEYTAB=${SECRET_ENV.HIVE_KERBEROS_KEYTAB}`,
    KERBEROS_CLIENT: kinit,
    KRB5_CONF_B64: Buffer.from(KRB5_CONF).toString('base64'),
    HIVE_TLS_CA_SECRET_NAME,
    HIVE_TLS_CA_SHA256: caSha,
  });
  const withHiveSecrets = (scratch: Scratch): Scratch => {
    writeFileSync(join(scratch.fixtures, 'secrets', SECRET_ENV.HIVE_KERBEROS_KEYTAB), keytab);
    writeFileSync(join(scratch.fixtures, 'secrets', HIVE_TLS_CA_SECRET_NAME), ca);
    return scratch;
  };
  const aptLines = (scratch: Scratch) => readFileSync(scratch.log, 'utf8').split('\n').filter((line) => line.startsWith('apt-get '));
  const onVm = (scratch: Scratch, path: string) => join(scratch.root, path);

  describe('on an image that carries kinit', () => {
    let scratch: Scratch;
    const outputs: string[] = [];
    beforeAll(() => {
      scratch = withHiveSecrets(makeScratch({ stubs: ['kinit'] }));
      for (const args of [PREPARE, deployArgs(scratch, 'keyvault', scratch.bundleSha, hiveSettings('image')), ['fetch-secrets']]) {
        const result = run(scratch, args);
        outputs.push(result.output);
        if (result.status !== 0) throw new Error(`bootstrap ${args[0]} exited ${result.status}:\n${result.output}`);
      }
    });
    afterAll(() => rmSync(scratch.dir, { recursive: true, force: true }));

    it('installs nothing: kinit is there, and the bundle carries the kerberos module', () => {
      expect(aptLines(scratch)).toEqual([]);
      expect(outputs[1]).toContain('the image has every package this script needs; apt is not used');
    });

    it('writes the krb5.conf of the deploy config where HIVE_KRB5_CONF points, readable by the service', () => {
      const file = onVm(scratch, VM_PATHS.krb5Conf);
      expect(readFileSync(file, 'utf8')).toBe(KRB5_CONF);
      expect(statSync(file).mode & 0o777).toBe(0o644);
    });

    it("makes the bundle's runtime load kerberos (MIT GSSAPI) before the release becomes current", () => {
      expect(readFileSync(scratch.log, 'utf8')).toMatch(new RegExp(`^node runtime/self-test\\.cjs --kerberos \\(in .*releases/${scratch.bundleSha}\\.tmp\\)$`, 'm'));
      expect(outputs[1]).toContain('bundle runtime: node v22.23.5 (modules 127, linux-x64), SQLite 3.53.2, kerberos 7.0.0 (MIT GSSAPI)');
    });

    it('hands the connector its keytab (base64) with the other secrets, in the root-only runtime directory only', () => {
      expect(readFileSync(onVm(scratch, 'run/enos-connector/secrets.env'), 'utf8').split('\n')).toContain(`HIVE_KERBEROS_KEYTAB="${keytab}"`);
      for (const file of filesUnder(scratch.root).filter((path) => !relative(scratch.root, path).startsWith('run/'))) {
        expect(readFileSync(file, 'latin1').includes(keytab), `${relative(scratch.root, file)} holds the keytab`).toBe(false);
      }
      expect(readFileSync(scratch.log, 'utf8')).not.toContain(keytab);
      for (const output of outputs) expect(output).not.toContain(keytab);
    });

    it('writes the Hive CA bundle from Key Vault where HIVE_TLS_CA_FILE points: root-owned, readable, not writable by the service', () => {
      const file = onVm(scratch, VM_PATHS.hiveTlsCa);
      expect(readFileSync(file, 'utf8')).toBe(`${ca}\n`);
      expect(statSync(file).mode & 0o777).toBe(0o644);
      expect(statSync(join(file, '..')).mode & 0o777).toBe(0o755);
      expect(readFileSync(scratch.log, 'utf8')).not.toMatch(/^chown .*hive/m);
    });

    it('refuses a CA bundle in Key Vault that is not the one the deploy config carries', () => {
      writeFileSync(join(scratch.fixtures, 'secrets', HIVE_TLS_CA_SECRET_NAME), testCaPem('Some Other CA').trim());
      const result = run(scratch, ['fetch-secrets']);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain(`Hive CA secret '${HIVE_TLS_CA_SECRET_NAME}' has SHA-256`);
      expect(result.output).toContain(`expected ${caSha}, the bundle in the deploy config`);
      writeFileSync(join(scratch.fixtures, 'secrets', HIVE_TLS_CA_SECRET_NAME), 'not a certificate');
      expect(run(scratch, ['fetch-secrets']).output).toContain(`Hive CA secret '${HIVE_TLS_CA_SECRET_NAME}' is not a PEM certificate bundle`);
      writeFileSync(join(scratch.fixtures, 'secrets', HIVE_TLS_CA_SECRET_NAME), ca);
    });

    it('a deploy without Kerberos removes the krb5.conf and no longer asks for kerberos', () => {
      writeFileSync(scratch.log, '');
      const result = run(scratch, deployArgs(scratch, 'keyvault'));
      expect(result.status, result.output).toBe(0);
      expect(existsSync(onVm(scratch, VM_PATHS.krb5Conf))).toBe(false);
      expect(readFileSync(scratch.log, 'utf8')).not.toContain('--kerberos');
    });
  });

  it('installs krb5-user (kinit) from apt when the image lacks it, waiting for the dpkg lock', () => {
    const scratch = withHiveSecrets(makeScratch({ pathWithout: ['kinit'] }));
    try {
      const result = run(scratch, deployArgs(scratch, 'keyvault', scratch.bundleSha, hiveSettings('apt')));
      expect(result.status, result.output).toBe(0);
      expect(aptLines(scratch)).toEqual([
        'apt-get -o DPkg::Lock::Timeout=600 update -q',
        'apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends krb5-user',
      ]);
      expect(readlinkSync(onVm(scratch, 'opt/enos-connector/current'))).toContain(scratch.bundleSha);
    } finally {
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  });

  it('never installs krb5-user without Kerberos, even on an image without kinit', () => {
    const scratch = makeScratch({ pathWithout: ['kinit'] });
    try {
      for (const args of [PREPARE, deployArgs(scratch, 'keyvault')]) expect(run(scratch, args).status).toBe(0);
      expect(aptLines(scratch)).toEqual([]);
      expect(existsSync(onVm(scratch, VM_PATHS.krb5Conf))).toBe(false);
    } finally {
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  });

  it('refuses, with the reason and no apt, an image said to carry kinit that does not (egress off: nowhere to get it from)', () => {
    const scratch = withHiveSecrets(makeScratch({ pathWithout: ['kinit'] }));
    try {
      const result = run(scratch, deployArgs(scratch, 'keyvault', scratch.bundleSha, hiveSettings('image')));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain("kinit is not on this image; expected an image that carries MIT Kerberos' krb5-user");
      expect(aptLines(scratch)).toEqual([]);
      expect(existsSync(onVm(scratch, 'opt/enos-connector/current'))).toBe(false);
      expect(readFileSync(scratch.log, 'utf8')).not.toContain('systemctl restart enos-connector.service');
    } finally {
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  });

  it('a release installed before Kerberos must load kerberos too: one that cannot stays unused, the service is not restarted', () => {
    const scratch = withHiveSecrets(makeScratch({ runtime: 'no-gssapi', stubs: ['kinit'] }));
    try {
      expect(run(scratch, deployArgs(scratch, 'keyvault')).status).toBe(0);
      writeFileSync(scratch.log, '');
      const result = run(scratch, deployArgs(scratch, 'keyvault', scratch.bundleSha, hiveSettings('image')));
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('libgssapi_krb5.so.2: cannot open shared object file');
      expect(result.output).toContain(`bundle ${scratch.bundleSha} cannot run on this VM with Kerberos; the current release stays`);
      expect(readFileSync(scratch.log, 'utf8')).not.toContain('systemctl restart enos-connector.service');
    } finally {
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  });
});

// Cloud-init and the extension write their own copies, but people run the file from the repo too.
describe('bootstrap script file', () => {
  it('is executable', () => {
    expect(statSync(BOOTSTRAP_SCRIPT_FILE).mode & 0o111).not.toBe(0);
  });
});

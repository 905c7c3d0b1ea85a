/**
 * Bad deploy configs fail at synth with a message that names the field, the value that arrived
 * and what was expected; the committed example is valid; the config file is found as documented.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployConfigError, EXAMPLE_CONFIG, loadDeployConfig, parseDeployConfig, resolveConfigPath } from '../../infra/config.js';
import { resourceNames } from '../../infra/naming.js';
import { HIVE_SERVER_NAME, KRB5_CONF, kerberosPatch, testCaPem } from './hive-fixtures.js';
import { exampleConfig, merge } from './synth.js';

function problemsOf(patch: unknown): string[] {
  try {
    parseDeployConfig(merge(exampleConfig(), patch), 'test');
  } catch (error) {
    if (error instanceof DeployConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

/** Hive TLS, Kerberos, version and impersonation: each refusal names the field, the value and what was expected. */
const HIVE_CASES: [string, unknown, string][] = [
  [
    'PLAIN without TLS and without the explicit opt-out (the password would cross the network in clear)',
    { hadoop: { hive: { tls: { enabled: false, serverName: undefined } } } },
    'hadoop.hive.tls.enabled: got false; expected true with hadoop.hive.auth "PLAIN": the connector refuses to send the Hive password in clear; for a cluster without TLS set hadoop.hive.tls.insecureAllowPlainWithoutTls to true',
  ],
  [
    'the PLAIN-without-TLS opt-out while TLS is on',
    { hadoop: { hive: { tls: { enabled: true, insecureAllowPlainWithoutTls: true } } } },
    'hadoop.hive.tls.insecureAllowPlainWithoutTls: got true; expected false with hadoop.hive.auth "PLAIN" and hadoop.hive.tls.enabled true',
  ],
  [
    'a CA bundle without TLS',
    { hadoop: { hive: { tls: { enabled: false, serverName: undefined, insecureAllowPlainWithoutTls: true, caPem: testCaPem() } } } },
    'hadoop.hive.tls.caPem: got a text of',
  ],
  ['a TLS server name without TLS', { hadoop: { hive: { auth: 'NOSASL', username: undefined, tls: { enabled: false } } } }, `hadoop.hive.tls.serverName: got "${HIVE_SERVER_NAME}"; expected nothing with hadoop.hive.tls.enabled false`],
  ['no TLS section at all with PLAIN', { hadoop: { hive: { tls: undefined } } }, 'hadoop.hive.tls.enabled: got false; expected true with hadoop.hive.auth "PLAIN"'],
  ['a TLS section without enabled', { hadoop: { hive: { tls: { enabled: undefined } } } }, 'hadoop.hive.tls.enabled: got nothing; expected a boolean'],
  [
    'a path where the CA bundle goes',
    { hadoop: { hive: { tls: { enabled: true, caPem: '/etc/ssl/hadoop-ca.pem' } } } },
    'hadoop.hive.tls.caPem: got "/etc/ssl/hadoop-ca.pem"; expected PEM text with at least one "-----BEGIN CERTIFICATE-----" block',
  ],
  [
    'a CA bundle whose certificate does not parse',
    { hadoop: { hive: { tls: { enabled: true, caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' } } } },
    'hadoop.hive.tls.caPem: got a text of 3 lines; expected certificates that parse as X.509; certificate 1 of the bundle does not',
  ],
  ['a TLS server name that is not a host name', { hadoop: { hive: { tls: { enabled: true, serverName: 'hs2 hadoop' } } } }, 'hadoop.hive.tls.serverName: got "hs2 hadoop"; expected a DNS host name'],
  [
    'Kerberos without its settings',
    { hadoop: { hive: { auth: 'KERBEROS', username: undefined } } },
    'hadoop.hive.kerberos: got nothing; expected the Kerberos settings (principal, krb5Conf, kdcCidrs) with hadoop.hive.auth "KERBEROS"',
  ],
  ['Kerberos with a Hive user name', kerberosPatch({}, { username: 'enos_export' }), 'hadoop.hive.username: got "enos_export"; expected nothing with hadoop.hive.auth "KERBEROS"'],
  [
    'Kerberos settings with PLAIN',
    merge(kerberosPatch(), { hadoop: { hive: { auth: 'PLAIN', username: 'enos_export' } } }),
    'hadoop.hive.kerberos: got the Kerberos settings; expected nothing with hadoop.hive.auth "PLAIN"',
  ],
  ['a principal without its realm', kerberosPatch({ principal: 'svc-aml' }), 'hadoop.hive.kerberos.principal: got "svc-aml"; expected a Kerberos principal with its realm'],
  ['a path where the krb5.conf content goes', kerberosPatch({ krb5Conf: '/etc/krb5.conf' }), 'hadoop.hive.kerberos.krb5Conf: got "/etc/krb5.conf"; expected the content of a krb5.conf'],
  [
    'a krb5.conf that includes files the VM does not have',
    kerberosPatch({ krb5Conf: `includedir /etc/krb5.conf.d/\n${KRB5_CONF}` }),
    'hadoop.hive.kerberos.krb5Conf: got a text of 13 lines; expected a self-contained krb5.conf',
  ],
  [
    'a KDC outside the KDC ranges the NSG opens',
    kerberosPatch({ krb5Conf: KRB5_CONF.replace('kdc = 10.20.1.20', 'kdc = 10.20.9.9') }),
    'hadoop.hive.kerberos.krb5Conf: names the KDC "10.20.9.9"; expected an address inside hadoop.hive.kerberos.kdcCidrs (10.20.1.20/31)',
  ],
  [
    'a KDC on a port other than 88',
    kerberosPatch({ krb5Conf: KRB5_CONF.replace('kdc = 10.20.1.20', 'kdc = 10.20.1.20:750') }),
    'hadoop.hive.kerberos.krb5Conf: names the KDC "10.20.1.20:750"; expected port 88',
  ],
  [
    'a KDC proxy over HTTPS',
    kerberosPatch({ krb5Conf: KRB5_CONF.replace('kdc = 10.20.1.20', 'kdc = https://kdcproxy.hadoop.internal/KdcProxy') }),
    'hadoop.hive.kerberos.krb5Conf: names the KDC "https://kdcproxy.hadoop.internal/KdcProxy"; expected host or host:88',
  ],
  ['no KDC ranges', kerberosPatch({ kdcCidrs: [] }), "hadoop.hive.kerberos.kdcCidrs: got []; expected at least one CIDR of the realm's KDCs"],
  [
    "no service host while HiveServer2 is known by its address (Kerberos needs the host's name)",
    kerberosPatch({ serviceHost: undefined }),
    'hadoop.hive.kerberos.serviceHost: got nothing; expected the host name in HiveServer2\'s principal (hive/<host>@REALM), since hadoop.hive.host "10.20.1.10" is an IP address',
  ],
  [
    'Kerberos without Internet egress while kinit would come from apt',
    merge(kerberosPatch(), { network: { allowInternetEgress: false } }),
    'hadoop.hive.kerberos.kinit: got "apt"; expected "image" with network.allowInternetEgress false: kinit (Ubuntu package krb5-user) would come from Ubuntu\'s archive',
  ],
  ['a kinit source the bootstrap does not know', kerberosPatch({ kinit: 'snap' }), 'hadoop.hive.kerberos.kinit: got "snap"; expected one of "apt", "image"'],
  ['a Hive version the connector does not know', { hadoop: { hive: { serverVersion: '3.0' } } }, 'hadoop.hive.serverVersion: got "3.0"; expected one of "auto", "2.3", "3.1", "4.0"'],
  [
    'a proxy-user template without {username}',
    { hadoop: { hive: { impersonation: { mode: 'proxy-user', proxyUserTemplate: 'enos_user' } } } },
    'hadoop.hive.impersonation.proxyUserTemplate: got "enos_user"; expected a template containing {username}',
  ],
  [
    'a proxy-user template without impersonation',
    { hadoop: { hive: { impersonation: { proxyUserTemplate: 'enos_{username}' } } } },
    'hadoop.hive.impersonation.proxyUserTemplate: got "enos_{username}"; expected nothing with hadoop.hive.impersonation.mode "none"',
  ],
  ['a Key Vault certificate named like the Hive CA secret', { tls: { keyVaultCertificate: 'hive-tls-ca' } }, "tls.keyVaultCertificate: got \"hive-tls-ca\"; expected a name other than the stack's own secrets"],
];

describe('deploy config', () => {
  it('the committed example is valid and applies the secure defaults', () => {
    const config = loadDeployConfig(EXAMPLE_CONFIG);
    expect(config.network.sshAllowedCidrs).toEqual([]);
    expect(config.vm.instanceCount).toBe(1);
    expect(config.storage.method).toBe('blob');
    expect(config.backend).toBeUndefined();
  });

  it('defaults leave SSH and the API closed', () => {
    const raw = exampleConfig() as { network: Record<string, unknown> };
    delete raw.network.apiAllowedCidrs;
    delete raw.network.sshAllowedCidrs;
    const config = parseDeployConfig(raw);
    expect(config.network.apiAllowedCidrs).toEqual([]);
    expect(config.network.sshAllowedCidrs).toEqual([]);
  });

  const cases: [string, unknown, string][] = [
    ['an unknown network mode', { network: { mode: 'vnet' } }, 'network.mode: got "vnet"; expected one of "subnet", "peered-vnet"'],
    ['a CIDR with host bits', { network: { apiAllowedCidrs: ['10.0.0.1/8'] } }, 'network.apiAllowedCidrs.0: got "10.0.0.1/8"; expected an IPv4 CIDR with zero host bits'],
    ['a misspelled field', { network: { sshAllowedCidr: [] } }, 'network.sshAllowedCidr: got an unknown field; expected only the fields documented in infra/README.md'],
    ['a wrong type', { hadoop: { hive: { port: '10000' } } }, 'hadoop.hive.port: got "10000"; expected a number'],
    ['a missing required field', { enos: { appKey: undefined } }, 'enos.appKey: got nothing; expected a string'],
    ['a name too long for storage accounts', { name: 'enosamlconnector' }, 'name: got "enosamlconnector"; expected 2-8 lowercase letters or digits'],
    ['no SSH key', { vm: { sshPublicKeys: [] } }, 'vm.sshPublicKeys: got []; expected at least one SSH public key (password login is disabled)'],
    ['a five-field cron', { cleanup: { schedule: '0 0 * * *' } }, 'cleanup.schedule: got "0 0 * * *"; expected a six-field NCRONTAB expression'],
    ['an http gateway', { enos: { gatewayUrl: 'http://gateway.example.com' } }, 'enos.gatewayUrl: got "http://gateway.example.com"; expected an https:// URL'],
    [
      'SSH open to the Internet',
      { network: { sshAllowedCidrs: ['0.0.0.0/0'] } },
      'network.sshAllowedCidrs.0: got "0.0.0.0/0"; expected specific admin ranges (SSH is never opened to the whole Internet)',
    ],
    [
      'several instances with local storage',
      { vm: { instanceCount: 2 }, storage: { method: 'local' } },
      'vm.instanceCount: got 2; expected 1 with storage.method "local"',
    ],
    [
      'a subnet outside the Hadoop VNet in subnet mode',
      { network: { connectorSubnet: '10.99.0.0/27' } },
      'network.connectorSubnet: got "10.99.0.0/27"; expected a range inside the Hadoop VNet address space (10.20.0.0/16) with network.mode "subnet"',
    ],
    [
      'a peered VNet that overlaps the Hadoop VNet',
      { network: { mode: 'peered-vnet', vnetAddressSpace: '10.20.128.0/24', connectorSubnet: '10.20.128.0/27', functionSubnet: '10.20.128.32/27' } },
      'network.vnetAddressSpace: got "10.20.128.0/24"; expected a range that does not overlap the Hadoop VNet\'s 10.20.0.0/16 (peered VNets must not overlap)',
    ],
    [
      'a peered VNet without its address space',
      { network: { mode: 'peered-vnet' } },
      'network.vnetAddressSpace: got nothing; expected the new VNet\'s CIDR with network.mode "peered-vnet"',
    ],
    [
      'overlapping connector and function subnets',
      { network: { functionSubnet: '10.20.250.0/27' } },
      'network.functionSubnet: got "10.20.250.0/27"; expected a range that does not overlap network.connectorSubnet (10.20.250.0/27)',
    ],
    [
      'a default lifetime above the maximum',
      { exports: { defaultTtlMinutes: 20_000, maxTtlMinutes: 10_000 } },
      'exports.defaultTtlMinutes: got 20000; expected at most exports.maxTtlMinutes (10000)',
    ],
    [
      'a maximum lifetime a user-delegation SAS cannot reach',
      { exports: { maxTtlMinutes: 20_160 } },
      'exports.maxTtlMinutes: got 20160; expected at most 10080 minutes (7 days, the most the connector accepts)',
    ],
    [
      'a maximum lifetime the connector refuses, with local storage too',
      { storage: { method: 'local' }, exports: { maxTtlMinutes: 20_160 } },
      'exports.maxTtlMinutes: got 20160; expected at most 10080 minutes',
    ],
    [
      'local storage with no name to build download URLs from',
      { storage: { method: 'local' }, network: { apiHostname: undefined } },
      'network.apiHostname: got nothing; expected the host name the API certificate is for with storage.method "local"',
    ],
    [
      'ACME without a public IP',
      { tls: { mode: 'acme' } },
      'tls.mode: got "acme"; expected "keyvault" when network.publicIp.enabled is false',
    ],
    [
      'ACME with the API closed to the CA',
      { tls: { mode: 'acme' }, network: { publicIp: { enabled: true, dnsLabel: 'enos-export' } } },
      'network.apiAllowedCidrs: got ["10.0.0.0/8"]; expected it to contain "0.0.0.0/0" with tls.mode "acme"',
    ],
    [
      'ACME behind a load balancer',
      { tls: { mode: 'acme' }, vm: { instanceCount: 2 }, network: { apiAllowedCidrs: ['0.0.0.0/0'], publicIp: { enabled: true, dnsLabel: 'enos-export' } } },
      'tls.mode: got "acme"; expected "keyvault" with vm.instanceCount 2',
    ],
    [
      'a public IP without a DNS label',
      { network: { publicIp: { enabled: true } } },
      'network.publicIp.dnsLabel: got nothing; expected a DNS label while network.publicIp.enabled is true',
    ],
    [
      'a Hive host name without its CIDR',
      { hadoop: { hive: { host: 'hive.hadoop.internal' } } },
      'hadoop.hive.cidrs: got nothing; expected the CIDR(s) of the Hive endpoint, since hadoop.hive.host "hive.hadoop.internal" is not an IPv4 address',
    ],
    [
      'download CIDRs while downloads are public',
      { storage: { downloadCidrs: ['198.51.100.0/24'] } },
      'storage.downloadCidrs: got ["198.51.100.0/24"]; expected an empty list with storage.downloadAccess "public"',
    ],
    ['a quote in a value that lands in an env file', { enos: { appKey: "key'1" } }, 'enos.appKey: got "key\'1"; expected a single line without quotes or backslashes'],
    ...HIVE_CASES,
    ['no deployer CIDR', { network: { deployerCidrs: [] } }, 'network.deployerCidrs: got []; expected at least one CIDR of the machine(s) that run `npm run deploy`'],
    [
      'a private deployer range, which azurerm refuses as a storage IP rule',
      { network: { deployerCidrs: ['10.1.2.0/24'] } },
      'network.deployerCidrs.0: got "10.1.2.0/24"; expected a public range: it overlaps the private 10.0.0.0/8, and storage firewall IP rules take public addresses only (azurerm refuses 10/8, 172.16/12, 192.168/16); list a deployer inside an Azure VNet by its subnet in network.deployerSubnetIds',
    ],
    ['a deployer address in 172.16/12', { network: { deployerCidrs: ['172.20.1.5/32'] } }, 'network.deployerCidrs.0: got "172.20.1.5/32"; expected a public range: it overlaps the private 172.16.0.0/12'],
    [
      'a private download range',
      { storage: { downloadAccess: 'cidrs', downloadCidrs: ['198.51.100.0/24', '192.168.10.0/24'] } },
      'storage.downloadCidrs.1: got "192.168.10.0/24"; expected a public range: it overlaps the private 192.168.0.0/16',
    ],
    ['a download range covering private ones', { storage: { downloadAccess: 'cidrs', downloadCidrs: ['0.0.0.0/0'] } }, 'storage.downloadCidrs.0: got "0.0.0.0/0"; expected a public range: it overlaps the private 10.0.0.0/8'],
    ['a deployer subnet that is not a subnet id', { network: { deployerSubnetIds: ['vnet-build/agents'] } }, 'network.deployerSubnetIds.0: got "vnet-build/agents"; expected a subnet resource id'],
    [
      'the cleanup function without public network access, which also closes the SCM site that takes the deploy',
      { cleanup: { publicNetworkAccess: false } },
      "cleanup.publicNetworkAccess: got false; expected true: public network access off also closes the function app's SCM site, which takes the package deploy",
    ],
    [
      'scale-out behind a private load balancer with no name and no fixed address',
      { vm: { instanceCount: 3 }, network: { apiHostname: undefined } },
      "network.apiHostname: got nothing; expected the API's host name, or a fixed network.loadBalancerPrivateIp, with vm.instanceCount 3 behind a private load balancer (its dynamic frontend address is only known after apply",
    ],
    [
      'a load balancer address outside the connector subnet',
      { vm: { instanceCount: 3 }, network: { loadBalancerPrivateIp: '10.20.250.40' } },
      'network.loadBalancerPrivateIp: got "10.20.250.40"; expected an address Azure hands out in network.connectorSubnet 10.20.250.0/27 (10.20.250.4 to 10.20.250.30)',
    ],
    [
      'a load balancer address Azure keeps for itself',
      { vm: { instanceCount: 3 }, network: { loadBalancerPrivateIp: '10.20.250.1' } },
      'network.loadBalancerPrivateIp: got "10.20.250.1"; expected an address Azure hands out in network.connectorSubnet 10.20.250.0/27',
    ],
    [
      'a load balancer address without a load balancer',
      { network: { loadBalancerPrivateIp: '10.20.250.20' } },
      'network.loadBalancerPrivateIp: got "10.20.250.20"; expected nothing unless vm.instanceCount is above 1 without a public IP',
    ],
    [
      'more instances than the connector subnet holds',
      { vm: { instanceCount: 10 }, network: { connectorSubnet: '10.20.250.0/28' } },
      'network.connectorSubnet: got "10.20.250.0/28"; expected room for 13 addresses (10 instance(s), 2 private endpoint(s), the load balancer frontend), it has 11',
    ],
    [
      'the retired Node.js version (the bundle carries its runtime)',
      { vm: { nodejsVersion: '22.12.0' } },
      'vm.nodejsVersion: got "22.12.0"; expected nothing: the connector bundle carries its own Node.js runtime',
    ],
    ['a region without a known Storage service tag', { location: 'atlantis' }, 'location: got "atlantis"; expected a public Azure region listed in infra/azure-regions.ts'],
    ['a route table that is not a route table id', { network: { routeTable: { id: 'rt-hub' } } }, 'network.routeTable.id: got "rt-hub"; expected a route table resource id'],
    [
      'a Key Vault certificate with ACME TLS',
      { tls: { mode: 'acme', keyVaultCertificate: 'api' }, network: { apiAllowedCidrs: ['0.0.0.0/0'], publicIp: { enabled: true, dnsLabel: 'enos-export' } } },
      'tls.keyVaultCertificate: got "api"; expected nothing with tls.mode "acme"',
    ],
    [
      "a Key Vault certificate named like one of the stack's secrets",
      { tls: { keyVaultCertificate: 'session-signing-key' } },
      "tls.keyVaultCertificate: got \"session-signing-key\"; expected a name other than the stack's own secrets",
    ],
  ];

  it.each(cases)('rejects %s, naming field, value and expectation', (_name, patch, message) => {
    const problems = problemsOf(patch);
    expect(problems.some((problem) => problem.startsWith(message)), `problems were:\n${problems.join('\n')}`).toBe(true);
  });

  it.each([
    ['Internet egress off (the bundle carries its runtime, so nothing is downloaded)', { network: { allowInternetEgress: false } }],
    ['a deployer inside a VNet only, by its subnet', { network: { deployerCidrs: [], deployerSubnetIds: ['/subscriptions/0000/resourceGroups/rg-build/providers/Microsoft.Network/virtualNetworks/vnet-build/subnets/agents'] } }],
    ['scale-out behind a private load balancer with a fixed address', { vm: { instanceCount: 3 }, network: { apiHostname: undefined, loadBalancerPrivateIp: '10.20.250.20' } }],
    ['scale-out behind a private load balancer with a host name', { vm: { instanceCount: 3 } }],
    ['a Key Vault certificate for the API', { tls: { keyVaultCertificate: 'connector-api' } }],
    ['exports soft delete on request', { storage: { softDeleteDays: 3 } }],
    ['Hive over TLS with the cluster CA', { hadoop: { hive: { tls: { enabled: true, caPem: testCaPem() } } } }],
    ['PLAIN without TLS, explicitly accepted', { hadoop: { hive: { tls: { enabled: false, serverName: undefined, insecureAllowPlainWithoutTls: true } } } }],
    ['NOSASL without TLS (no password crosses the network)', { hadoop: { hive: { auth: 'NOSASL', username: undefined, tls: { enabled: false, serverName: undefined } } } }],
    ['Kerberos over TLS', kerberosPatch()],
    ['Kerberos without Internet egress, kinit from the image', merge(kerberosPatch({ kinit: 'image' }), { network: { allowInternetEgress: false } })],
    ['Kerberos to a Hive host name (the principal takes its host from it)', kerberosPatch({ serviceHost: undefined }, { host: HIVE_SERVER_NAME, cidrs: ['10.20.1.10/32'] })],
    ['Kerberos with KDCs found through DNS (no kdc lines)', kerberosPatch({ krb5Conf: `[libdefaults]\n  default_realm = HADOOP.EXAMPLE.COM\n  dns_lookup_kdc = true\n` })],
    ['a Hive version and per-user impersonation', { hadoop: { hive: { serverVersion: '2.3', impersonation: { mode: 'proxy-user', proxyUserTemplate: 'enos_{username}' } } } }],
  ])('accepts %s', (_name, patch) => {
    expect(() => parseDeployConfig(merge(exampleConfig(), patch), 'test')).not.toThrow();
  });

  it('Hive defaults: no TLS unless enabled, the version asked at start, no impersonation; Kerberos service "hive", kinit from apt', () => {
    const raw = exampleConfig() as { hadoop: { hive: Record<string, unknown> } };
    delete raw.hadoop.hive.tls;
    const nosasl = parseDeployConfig(merge(raw, { hadoop: { hive: { auth: 'NOSASL', username: undefined } } }));
    expect(nosasl.hadoop.hive.tls).toEqual({ enabled: false, insecureAllowPlainWithoutTls: false });
    expect(nosasl.hadoop.hive.serverVersion).toBe('auto');
    expect(nosasl.hadoop.hive.impersonation).toEqual({ mode: 'none' });
    expect(nosasl.hadoop.hive.kerberos).toBeUndefined();
    const kerberos = parseDeployConfig(merge(exampleConfig(), kerberosPatch()));
    expect(kerberos.hadoop.hive.kerberos).toMatchObject({ service: 'hive', kinit: 'apt', krb5Conf: KRB5_CONF });
  });

  it('keeps only the certificates of a CA bundle (what openssl prints around them is dropped)', () => {
    const pem = testCaPem();
    const config = parseDeployConfig(merge(exampleConfig(), { hadoop: { hive: { tls: { enabled: true, caPem: `subject=CN = Hadoop Test CA\n${pem}\n\n${pem}` } } } }));
    const block = pem.trim();
    expect(config.hadoop.hive.tls.caPem).toBe(`${block}\n${block}`);
  });

  it('describes a multi-line value instead of echoing it, so a pasted private key never reaches the output', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRETSECRET\n-----END PRIVATE KEY-----';
    const problems = problemsOf({ hadoop: { hive: { tls: { enabled: true, caPem: `${key}\n${testCaPem()}` } } } });
    expect(problems).toEqual([expect.stringMatching(/^hadoop\.hive\.tls\.caPem: got a text of \d+ lines; expected certificates only: the text holds a PRIVATE KEY block/)]);
    expect(problems.join('\n')).not.toContain('SECRET');
  });

  it('defaults exports soft delete to off and the secrets to a year', () => {
    const config = loadDeployConfig(EXAMPLE_CONFIG);
    expect(config.storage.softDeleteDays).toBe(0);
    expect(config.secrets.expiryDays).toBe(365);
    expect(config.network.deployerSubnetIds).toEqual([]);
  });

  it('reports every bad field at once, with the file it came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-config-'));
    try {
      const file = join(dir, 'deploy.config.json');
      writeFileSync(file, JSON.stringify(merge(exampleConfig(), { location: 'West Europe', vm: { instanceCount: 0 } })));
      expect(() => loadDeployConfig(file)).toThrow(
        new RegExp(`^Invalid deploy config ${file.replaceAll('/', '\\/')}:\\n  - location: got "West Europe"; expected an Azure region name[^\\n]*\\n  - vm.instanceCount: got 0; expected an instance count from 1 to 20$`),
      );
      writeFileSync(file, '{ "name": ');
      expect(() => loadDeployConfig(file)).toThrow(/not JSON \(.*\); expected a JSON object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the config: --config, then $DEPLOY_CONFIG, then ./deploy.config.json, then the example', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-config-'));
    try {
      expect(resolveConfigPath([], {}, dir)).toEqual({ path: EXAMPLE_CONFIG, origin: expect.stringContaining('example') });
      writeFileSync(join(dir, 'deploy.config.json'), '{}');
      expect(resolveConfigPath([], {}, dir).path).toBe(join(dir, 'deploy.config.json'));
      expect(resolveConfigPath([], { DEPLOY_CONFIG: 'env.json' }, dir).path).toBe(join(dir, 'env.json'));
      expect(resolveConfigPath(['--config', 'flag.json'], { DEPLOY_CONFIG: 'env.json' }, dir).path).toBe(join(dir, 'flag.json'));
      expect(() => resolveConfigPath(['--config'], {}, dir)).toThrow('--config: got nothing; expected a path');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives names that fit Azure limits and do not depend on a subscription', () => {
    const config = parseDeployConfig(merge(exampleConfig(), { name: 'abcdefgh', environment: 'stage' }));
    const names = resourceNames(config);
    expect(names.storageAccount).toMatch(/^[a-z0-9]{3,24}$/);
    expect(names.functionStorageAccount).toMatch(/^[a-z0-9]{3,24}$/);
    expect(names.keyVault).toMatch(/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
    expect(resourceNames(config)).toEqual(names);
    expect(resourceNames({ ...config, location: 'northeurope' }).suffix).not.toBe(names.suffix);
  });
});

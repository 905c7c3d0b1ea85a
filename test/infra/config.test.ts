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
    [
      'Kerberos, which the deployed connector cannot speak',
      { hadoop: { hive: { auth: 'KERBEROS' } } },
      'hadoop.hive.auth: got "KERBEROS"; expected one of "PLAIN", "NOSASL"',
    ],
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
  ])('accepts %s', (_name, patch) => {
    expect(() => parseDeployConfig(merge(exampleConfig(), patch), 'test')).not.toThrow();
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

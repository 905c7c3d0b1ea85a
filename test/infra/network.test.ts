/**
 * The stack's network beyond the NSG rules the security suite checks: the route table the new
 * subnets take, what their Storage traffic may reach, the private endpoints and their DNS, and a
 * stack without Internet egress.
 */
import { describe, expect, it } from 'vitest';
import { KDC_CIDRS, kerberosPatch } from './hive-fixtures.js';
import { configWith, merge, metadataPath, synthesize, type Json, type Synthesized } from './synth.js';

const ROUTE_TABLE = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/routeTables/rt-to-firewall';

function byPath(s: Synthesized, type: string): Record<string, Json> {
  return Object.fromEntries(Object.values(s.resources(type)).map((resource) => [metadataPath(resource).replace(/^[^/]+\//, ''), resource]));
}

describe('route tables of the new subnets', () => {
  it('subnet mode: both subnets take the route table the Hadoop subnets share, so forced tunnelling and the firewall still apply', () => {
    const s = synthesize(configWith({}));
    const hadoopSubnets = s.json.data.azurerm_subnet as Record<string, Json>;
    const [lookupId, lookup] = Object.entries(hadoopSubnets)[0] ?? [];
    // Every subnet of the Hadoop VNet, read at plan time.
    expect(lookup).toMatchObject({ for_each: expect.stringMatching(/^\$\{toset\(data\.azurerm_virtual_network\.network_hadoop_vnet_[0-9A-F]{8}\.subnets\)\}$/), name: '${each.value}' });
    const associations = byPath(s, 'azurerm_subnet_route_table_association');
    expect(Object.keys(associations).sort()).toEqual(['network/connector_route_table', 'network/function_route_table']);
    const tables = `distinct(compact([ for key, val in data.azurerm_subnet.${lookupId}: val.route_table_id]))`;
    for (const association of Object.values(associations)) {
      expect(association.route_table_id).toBe(`\${element(${tables}, 0)}`);
      // None when the Hadoop subnets use none; a plan error naming the fix when they use several.
      expect(association.count).toBe(`\${(length(${tables}) >= 1) ? 1 : 0}`);
      expect((association.lifecycle as { precondition: Json[] }).precondition).toEqual([
        { condition: `\${(length(${tables}) == 1)}`, error_message: expect.stringContaining('set network.routeTable') },
      ]);
    }
    expect(String(associations['network/connector_route_table']?.subnet_id)).toMatch(/azurerm_subnet\.network_connector_subnet_/);
    expect(String(associations['network/function_route_table']?.subnet_id)).toMatch(/azurerm_subnet\.network_function_subnet_/);
  });

  it('a configured route table is associated as given; "none" associates none', () => {
    const given = synthesize(configWith({ network: { routeTable: { id: ROUTE_TABLE } } }));
    const associations = Object.values(given.resources('azurerm_subnet_route_table_association'));
    expect(associations.map((a) => a.route_table_id)).toEqual([ROUTE_TABLE, ROUTE_TABLE]);
    expect(associations.every((a) => a.count === undefined)).toBe(true);
    expect(given.json.data.azurerm_subnet).toBeUndefined();
    const none = synthesize(configWith({ network: { routeTable: 'none' } }));
    expect(none.resources('azurerm_subnet_route_table_association')).toEqual({});
  });

  it('peered-VNet mode inherits nothing by default (peering does not carry the Hadoop VNet routes)', () => {
    const s = synthesize(configWith({ network: { mode: 'peered-vnet', vnetAddressSpace: '10.60.0.0/24', connectorSubnet: '10.60.0.0/27', functionSubnet: '10.60.0.32/27' } }));
    expect(s.resources('azurerm_subnet_route_table_association')).toEqual({});
  });
});

describe('Storage traffic of the connector subnet', () => {
  const s = synthesize(configWith({}));
  const subnets = byPath(s, 'azurerm_subnet');

  it("reaches the stack's own accounts only: a service endpoint policy on its Storage endpoint", () => {
    const policy = s.only('azurerm_subnet_service_endpoint_storage_policy');
    expect(policy.definition).toEqual([expect.objectContaining({ service: 'Microsoft.Storage', service_resources: ['${azurerm_resource_group.resource_group.id}'] })]);
    const policyId = Object.keys(s.resources('azurerm_subnet_service_endpoint_storage_policy'))[0];
    expect(subnets['network/connector_subnet']?.service_endpoint_policy_ids).toEqual([`\${azurerm_subnet_service_endpoint_storage_policy.${policyId}.id}`]);
    // Not on the Flex Consumption subnet: endpoint policies break managed services' own storage.
    expect(subnets['network/function_subnet']?.service_endpoint_policy_ids).toBeUndefined();
    // The resource group holds the stack's accounts and nothing else.
    const accounts = Object.values(s.resources('azurerm_storage_account'));
    expect(accounts.length).toBe(3);
    for (const account of accounts) expect(account.resource_group_name).toBe('${azurerm_resource_group.resource_group.name}');
  });

  it("allows outbound Storage on both NSGs in the stack's region only, by its regional service tag", () => {
    const rules = Object.values(s.resources('azurerm_network_security_rule')).filter((rule) => rule.name === 'allow-storage');
    expect(rules).toHaveLength(2);
    for (const rule of rules) expect(rule.destination_address_prefix).toBe('Storage.WestEurope');
    const north = synthesize(configWith({ location: 'northeurope' }));
    expect(Object.values(north.resources('azurerm_network_security_rule')).filter((rule) => rule.name === 'allow-storage').map((rule) => rule.destination_address_prefix)).toEqual([
      'Storage.NorthEurope',
      'Storage.NorthEurope',
    ]);
  });
});

describe("the cleanup function's runtime storage", () => {
  const s = synthesize(configWith({}));

  it('has a blob private endpoint in the connector subnet, resolved through a private zone linked to the VNet', () => {
    const endpoint = s.at('azurerm_private_endpoint', 'cleanup/private_endpoint');
    expect(endpoint.subnet_id).toMatch(/^\$\{azurerm_subnet\.network_connector_subnet_/);
    expect(endpoint.private_service_connection).toMatchObject({
      private_connection_resource_id: expect.stringMatching(/^\$\{azurerm_storage_account\.cleanup_runtime_storage_account_[0-9A-F]{8}\.id\}$/),
      subresource_names: ['blob'],
    });
    expect(s.at('azurerm_private_dns_zone', 'cleanup/dns_zone').name).toBe('privatelink.blob.core.windows.net');
    // Other accounts (exports, bundles) keep resolving publicly from the VNet.
    expect(s.at('azurerm_private_dns_zone_virtual_network_link', 'cleanup/dns_link')).toMatchObject({ resolution_policy: 'NxDomainRedirect', registration_enabled: false });
  });

  it('the function subnet may reach the endpoint, and the connector subnet admits it there', () => {
    const rules = Object.values(s.resources('azurerm_network_security_rule'));
    expect(rules.find((rule) => rule.name === 'allow-private-endpoints')).toMatchObject({ direction: 'Outbound', source_address_prefix: '10.20.250.32/27', destination_address_prefix: '10.20.250.0/27', destination_port_range: '443' });
    expect(rules.find((rule) => rule.name === 'allow-function-private-endpoints')).toMatchObject({ direction: 'Inbound', source_address_prefix: '10.20.250.32/27', destination_address_prefix: '10.20.250.0/27' });
  });
});

describe('scale-out diagnostics', () => {
  it('the exports account logs its table service (the job store) as well as its blob service', () => {
    const s = synthesize(configWith({ vm: { instanceCount: 3 } }));
    const targets = Object.values(s.resources('azurerm_monitor_diagnostic_setting')).map((setting) => String(setting.target_resource_id));
    expect(targets).toEqual(expect.arrayContaining([expect.stringMatching(/^\$\{azurerm_storage_account\.storage_account_[0-9A-F]{8}\.id\}\/tableServices\/default$/)]));
    const single = synthesize(configWith({}));
    expect(Object.values(single.resources('azurerm_monitor_diagnostic_setting')).some((setting) => String(setting.target_resource_id).endsWith('/tableServices/default'))).toBe(false);
  });
});

describe('Internet egress off', () => {
  const s = synthesize(configWith({ network: { allowInternetEgress: false } }));

  it('has no NAT gateway and no Internet rule: the VMs reach Azure services only', () => {
    expect(s.resources('azurerm_nat_gateway')).toEqual({});
    expect(Object.values(s.resources('azurerm_network_security_rule')).filter((rule) => String(rule.destination_address_prefix) === 'Internet')).toEqual([]);
  });

  it('still deploys the connector: the bundle comes from the bundles account over the Storage service endpoint', () => {
    const settings = String(s.only('azurerm_virtual_machine_extension').protected_settings);
    expect(settings).toMatch(/BUNDLE_URL=", azurerm_storage_account\.artifacts_storage_account_[0-9A-F]{8}\.primary_blob_endpoint/);
    expect(settings).not.toContain('NODE_VERSION');
    // Nothing the VM is told points at nodejs.org, the npm registry or GitHub.
    expect(settings).not.toMatch(/nodejs\.org|registry\.npmjs|github/);
  });
});

describe('Kerberos KDCs', () => {
  const connectorRules = (s: Synthesized): Json[] => Object.values(s.resources('azurerm_network_security_rule')).filter((rule) => metadataPath(rule).includes('/network/connector_'));
  const port88 = (rules: Json[]): Json[] =>
    rules.filter((rule) => rule.access === 'Allow' && [rule.destination_port_range, ...((rule.destination_port_ranges as string[] | undefined) ?? [])].some((port) => port === '88' || port === '*'));

  it('with Kerberos: outbound port 88, TCP and UDP, from the connector subnet to the KDC ranges only', () => {
    const rules = connectorRules(synthesize(configWith(kerberosPatch())));
    // (The Azure platform rule's '*' goes to 168.63.129.16 only.)
    const kdc = port88(rules).filter((rule) => rule.destination_address_prefix !== '168.63.129.16/32');
    expect(kdc.map((rule) => ({ name: rule.name, protocol: rule.protocol, direction: rule.direction, from: rule.source_address_prefix, to: rule.destination_address_prefix, port: rule.destination_port_range }))).toEqual([
      { name: 'allow-kerberos-kdc-tcp', protocol: 'Tcp', direction: 'Outbound', from: '10.20.250.0/27', to: KDC_CIDRS[0], port: '88' },
      { name: 'allow-kerberos-kdc-udp', protocol: 'Udp', direction: 'Outbound', from: '10.20.250.0/27', to: KDC_CIDRS[0], port: '88' },
    ]);
    // Before the deny-all, and no priority taken twice in a direction (Azure refuses that).
    const outbound = rules.filter((rule) => rule.direction === 'Outbound');
    const priorities = outbound.map((rule) => rule.priority as number);
    expect(new Set(priorities).size).toBe(priorities.length);
    for (const rule of kdc) expect(rule.priority as number).toBeLessThan(outbound.find((other) => other.name === 'deny-all-outbound')?.priority as number);
  });

  it('several KDC ranges go into one rule per protocol', () => {
    const kdcCidrs = ['10.20.1.20/31', '10.30.0.0/28'];
    const rules = connectorRules(synthesize(configWith(kerberosPatch({ kdcCidrs, krb5Conf: '[libdefaults]\n  default_realm = HADOOP.EXAMPLE.COM\n' }))));
    for (const name of ['allow-kerberos-kdc-tcp', 'allow-kerberos-kdc-udp']) {
      expect(rules.find((rule) => rule.name === name)?.destination_address_prefixes).toEqual(kdcCidrs);
    }
  });

  it('without Kerberos no rule opens port 88', () => {
    for (const patch of [{}, { hadoop: { hive: { auth: 'NOSASL', username: undefined } } }]) {
      const rules = connectorRules(synthesize(configWith(patch)));
      expect(port88(rules).filter((rule) => rule.destination_address_prefix !== '168.63.129.16/32')).toEqual([]);
      expect(rules.filter((rule) => String(rule.name).includes('kerberos'))).toEqual([]);
    }
  });

  it('without Internet egress, with kinit from the image: the KDC rules and no Internet rule', () => {
    const rules = connectorRules(synthesize(configWith(merge(kerberosPatch({ kinit: 'image' }), { network: { allowInternetEgress: false } }))));
    expect(rules.filter((rule) => String(rule.name).startsWith('allow-kerberos-kdc-'))).toHaveLength(2);
    expect(rules.filter((rule) => rule.destination_address_prefix === 'Internet')).toEqual([]);
  });
});

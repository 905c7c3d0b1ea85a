import { Construct } from 'constructs';
import { Fn, Op, TerraformIterator, Token, type Precondition } from 'cdktf';
import { DataAzurermSubnet } from '@cdktf/provider-azurerm/lib/data-azurerm-subnet/index.js';
import { DataAzurermVirtualNetwork } from '@cdktf/provider-azurerm/lib/data-azurerm-virtual-network/index.js';
import { NatGateway } from '@cdktf/provider-azurerm/lib/nat-gateway/index.js';
import { NatGatewayPublicIpAssociation } from '@cdktf/provider-azurerm/lib/nat-gateway-public-ip-association/index.js';
import { PublicIp } from '@cdktf/provider-azurerm/lib/public-ip/index.js';
import { SubnetNatGatewayAssociation } from '@cdktf/provider-azurerm/lib/subnet-nat-gateway-association/index.js';
import { NetworkSecurityGroup } from '@cdktf/provider-azurerm/lib/network-security-group/index.js';
import { NetworkSecurityRule, type NetworkSecurityRuleConfig } from '@cdktf/provider-azurerm/lib/network-security-rule/index.js';
import { Subnet } from '@cdktf/provider-azurerm/lib/subnet/index.js';
import { SubnetNetworkSecurityGroupAssociation } from '@cdktf/provider-azurerm/lib/subnet-network-security-group-association/index.js';
import { SubnetRouteTableAssociation } from '@cdktf/provider-azurerm/lib/subnet-route-table-association/index.js';
import { SubnetServiceEndpointStoragePolicy } from '@cdktf/provider-azurerm/lib/subnet-service-endpoint-storage-policy/index.js';
import { VirtualNetwork } from '@cdktf/provider-azurerm/lib/virtual-network/index.js';
import { VirtualNetworkPeering } from '@cdktf/provider-azurerm/lib/virtual-network-peering/index.js';

export interface NetworkProps {
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  /** The existing Hadoop VNet, looked up, never managed. */
  hadoopVnet: { resourceGroupName: string; name: string };
  /**
   * `subnet`: the stack's subnets go into the Hadoop VNet.
   * `peered-vnet`: a new VNet (`vnetAddressSpace`) peered both ways with the Hadoop VNet.
   */
  mode: 'subnet' | 'peered-vnet';
  /** Required with `peered-vnet`. */
  vnetAddressSpace?: string;
  names: { vnet: string; connectorSubnet: string; functionSubnet: string; connectorNsg: string; functionNsg: string; natGateway: string; serviceEndpointPolicy: string };
  connectorSubnetCidr: string;
  functionSubnetCidr: string;
  /** Sources allowed to reach the API on 443. @default [] - no inbound HTTPS rule */
  apiAllowedCidrs?: string[];
  /** Sources allowed to SSH. @default [] - no SSH rule at all */
  sshAllowedCidrs?: string[];
  hive: { cidrs: string[]; port: number };
  /**
   * The Kerberos KDCs the connector gets its tickets from (kinit): port 88, TCP and UDP.
   * @default - none: no Kerberos rule
   */
  kerberosKdcCidrs?: string[];
  enosGatewayCidrs: string[];
  /**
   * The Storage service tag of the stack's region (`Storage.WestEurope`): outbound Storage is
   * allowed there only, not to every account in every region.
   */
  storageServiceTag: string;
  /**
   * What the connector subnet's Storage service endpoint may reach (a service endpoint policy):
   * ARM ids of accounts, or of the resource group that holds only the stack's accounts.
   */
  storageAllowList: string[];
  /**
   * The route table of both subnets. `inherit`: the one the Hadoop VNet's subnets share (subnet
   * mode), so its forced tunnelling or firewall covers the stack too. @default 'none'
   */
  routeTable?: { id: string } | 'inherit' | 'none';
  /**
   * The cleanup function reaches private endpoints in the connector subnet (its runtime storage's
   * blob endpoint): admit 443 from the function subnet there. @default false
   */
  functionUsesPrivateEndpoints?: boolean;
  /**
   * Outbound 80/443 to the Internet for OS updates and the ACME CA, through a NAT gateway (the
   * subnet has no implicit default outbound access). @default false
   */
  allowInternetEgress?: boolean;
  /** Admit the Standard Load Balancer's health probes on 443. @default false */
  loadBalanced?: boolean;
}

type RuleSpec = Omit<NetworkSecurityRuleConfig, 'resourceGroupName' | 'networkSecurityGroupName' | 'sourcePortRange'>;

/**
 * The network side of the stack: the Hadoop VNet as a data source, the connector and cleanup
 * subnets (in that VNet, or in a new VNet peered both ways), and an NSG on every subnet the stack
 * creates. Inbound is HTTPS from the listed sources and SSH from the admin sources only; outbound
 * is limited to Hive (and its Kerberos KDCs), Azure Storage in the region (and through the service
 * endpoint only the stack's accounts), Key Vault (private endpoint), Azure AD and the EnOS gateway.
 */
export class Network extends Construct {
  readonly hadoopVnet: DataAzurermVirtualNetwork;
  /** The VNet the subnets live in: the Hadoop VNet's id in `subnet` mode, the new VNet's otherwise. */
  readonly vnetId: string;
  readonly connectorSubnet: Subnet;
  readonly functionSubnet: Subnet;
  readonly connectorNsg: NetworkSecurityGroup;
  readonly functionNsg: NetworkSecurityGroup;
  /** The connector subnet's way out to the Internet, when allowed (Node.js, packages, ACME). */
  readonly connectorEgress?: SubnetNatGatewayAssociation;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { resourceGroupName, location, tags, names } = props;

    this.hadoopVnet = new DataAzurermVirtualNetwork(this, 'hadoop_vnet', {
      name: props.hadoopVnet.name,
      resourceGroupName: props.hadoopVnet.resourceGroupName,
    });

    let subnetHome: { resourceGroupName: string; virtualNetworkName: string };
    if (props.mode === 'peered-vnet') {
      if (props.vnetAddressSpace === undefined) {
        throw new Error('Network: mode "peered-vnet" needs vnetAddressSpace; got undefined');
      }
      const vnet = new VirtualNetwork(this, 'connector_vnet', {
        name: names.vnet,
        resourceGroupName,
        location,
        addressSpace: [props.vnetAddressSpace],
        tags,
      });
      // Both directions: a one-way peering leaves the link "Initiated" and carries no traffic.
      new VirtualNetworkPeering(this, 'to_hadoop', {
        name: `${names.vnet}-to-hadoop`,
        resourceGroupName,
        virtualNetworkName: vnet.name,
        remoteVirtualNetworkId: this.hadoopVnet.id,
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: false,
      });
      new VirtualNetworkPeering(this, 'from_hadoop', {
        name: `hadoop-to-${names.vnet}`,
        resourceGroupName: props.hadoopVnet.resourceGroupName,
        virtualNetworkName: props.hadoopVnet.name,
        remoteVirtualNetworkId: vnet.id,
        allowVirtualNetworkAccess: true,
        allowForwardedTraffic: false,
      });
      subnetHome = { resourceGroupName, virtualNetworkName: vnet.name };
      this.vnetId = vnet.id;
    } else {
      subnetHome = { resourceGroupName: props.hadoopVnet.resourceGroupName, virtualNetworkName: props.hadoopVnet.name };
      this.vnetId = this.hadoopVnet.id;
    }

    this.connectorSubnet = new Subnet(this, 'connector_subnet', {
      name: names.connectorSubnet,
      ...subnetHome,
      addressPrefixes: [props.connectorSubnetCidr],
      // Storage is reached through its service endpoint (and firewall rule for this subnet), and
      // only the stack's own accounts: a service endpoint policy filters the endpoint's traffic.
      serviceEndpoints: ['Microsoft.Storage'],
      serviceEndpointPolicyIds: [this.storagePolicy(props).id],
      // Apply the NSG to the Key Vault private endpoint in this subnet too.
      privateEndpointNetworkPolicies: 'Enabled',
      // No implicit Internet egress: outbound is what the NSG and the NAT gateway grant.
      defaultOutboundAccessEnabled: false,
    });
    this.functionSubnet = new Subnet(this, 'function_subnet', {
      name: names.functionSubnet,
      ...subnetHome,
      addressPrefixes: [props.functionSubnetCidr],
      serviceEndpoints: ['Microsoft.Storage'],
      delegation: [
        {
          name: 'flex-consumption',
          serviceDelegation: { name: 'Microsoft.App/environments', actions: ['Microsoft.Network/virtualNetworks/subnets/join/action'] },
        },
      ],
    });

    this.connectorNsg = new NetworkSecurityGroup(this, 'connector_nsg', { name: names.connectorNsg, resourceGroupName, location, tags });
    this.functionNsg = new NetworkSecurityGroup(this, 'function_nsg', { name: names.functionNsg, resourceGroupName, location, tags });
    new SubnetNetworkSecurityGroupAssociation(this, 'connector_nsg_association', {
      subnetId: this.connectorSubnet.id,
      networkSecurityGroupId: this.connectorNsg.id,
    });
    new SubnetNetworkSecurityGroupAssociation(this, 'function_nsg_association', {
      subnetId: this.functionSubnet.id,
      networkSecurityGroupId: this.functionNsg.id,
    });
    this.associateRouteTable(props, subnetHome);

    if (props.allowInternetEgress) {
      const natIp = new PublicIp(this, 'nat_ip', {
        name: `${names.natGateway}-ip`,
        resourceGroupName,
        location,
        allocationMethod: 'Static',
        sku: 'Standard',
        tags,
      });
      const nat = new NatGateway(this, 'nat_gateway', { name: names.natGateway, resourceGroupName, location, skuName: 'Standard', tags });
      new NatGatewayPublicIpAssociation(this, 'nat_ip_association', { natGatewayId: nat.id, publicIpAddressId: natIp.id });
      this.connectorEgress = new SubnetNatGatewayAssociation(this, 'connector_nat_association', { subnetId: this.connectorSubnet.id, natGatewayId: nat.id });
    }

    this.addRules('connector', this.connectorNsg, resourceGroupName, connectorRules(props));
    this.addRules('function', this.functionNsg, resourceGroupName, functionRules(props));
  }

  /**
   * Only the listed accounts through the connector subnet's Storage service endpoint. Not on the
   * function subnet: Microsoft documents that endpoint policies must not be applied to subnets of
   * managed services with storage dependencies of their own ("Limitations" in
   * virtual-network-service-endpoint-policies-overview.md), and Flex Consumption runs there.
   */
  private storagePolicy(props: NetworkProps): SubnetServiceEndpointStoragePolicy {
    return new SubnetServiceEndpointStoragePolicy(this, 'storage_policy', {
      name: props.names.serviceEndpointPolicy,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      tags: props.tags,
      definition: [
        {
          name: 'stack-storage',
          description: "The stack's own storage accounts only.",
          service: 'Microsoft.Storage',
          serviceResources: props.storageAllowList,
        },
      ],
    });
  }

  /**
   * Subnets added to a VNet get no route table of their own, so they would bypass the forced
   * tunnelling or firewall the Hadoop subnets are routed through. `inherit` reads every Hadoop
   * subnet and associates the one route table they use (none when they use none); when they use
   * several, the plan stops and asks for network.routeTable.
   */
  private associateRouteTable(props: NetworkProps, home: { resourceGroupName: string; virtualNetworkName: string }): void {
    const choice = props.routeTable ?? 'none';
    if (choice === 'none') return;
    let routeTableId: string;
    let guard: { count?: number; lifecycle?: { precondition: Precondition[] } } = {};
    if (choice === 'inherit') {
      const names = TerraformIterator.fromList(this.hadoopVnet.subnets);
      const hadoopSubnets = new DataAzurermSubnet(this, 'hadoop_subnets', {
        forEach: names,
        name: Token.asString(names.value),
        resourceGroupName: home.resourceGroupName,
        virtualNetworkName: home.virtualNetworkName,
      });
      const tables = Fn.distinct(Fn.compact(TerraformIterator.fromDataSources(hadoopSubnets).pluckProperty('route_table_id') as unknown as string[]));
      routeTableId = Token.asString(Fn.element(tables, 0));
      guard = {
        count: Token.asNumber(Fn.conditional(Op.gte(Fn.lengthOf(tables), 1), 1, 0)),
        lifecycle: {
          precondition: [
            {
              condition: Op.eq(Fn.lengthOf(tables), 1),
              errorMessage: 'The Hadoop VNet subnets use different route tables; set network.routeTable to { "id": ... } (or "none") in the deploy config.',
            },
          ],
        },
      };
    } else {
      routeTableId = choice.id;
    }
    for (const [id, subnet] of [['connector_route_table', this.connectorSubnet], ['function_route_table', this.functionSubnet]] as const) {
      new SubnetRouteTableAssociation(this, id, { subnetId: subnet.id, routeTableId, ...guard });
    }
  }

  private addRules(prefix: string, nsg: NetworkSecurityGroup, resourceGroupName: string, rules: RuleSpec[]): void {
    for (const rule of rules) {
      new NetworkSecurityRule(this, `${prefix}_${rule.name.replaceAll('-', '_')}`, {
        ...rule,
        resourceGroupName,
        networkSecurityGroupName: nsg.name,
        sourcePortRange: '*',
      });
    }
  }
}

const denyAll = (direction: 'Inbound' | 'Outbound'): RuleSpec => ({
  name: `deny-all-${direction.toLowerCase()}`,
  description: 'Everything not allowed above is denied (overrides the permissive Azure defaults at 65000+).',
  priority: 4096,
  direction,
  access: 'Deny',
  protocol: '*',
  sourceAddressPrefix: '*',
  destinationAddressPrefix: '*',
  destinationPortRange: '*',
});

const allowTcp = (
  name: string,
  description: string,
  priority: number,
  direction: 'Inbound' | 'Outbound',
  sources: string[],
  destinations: string[],
  ports: string[],
): RuleSpec => allow('Tcp', name, description, priority, direction, sources, destinations, ports);

const allow = (
  protocol: 'Tcp' | 'Udp',
  name: string,
  description: string,
  priority: number,
  direction: 'Inbound' | 'Outbound',
  sources: string[],
  destinations: string[],
  ports: string[],
): RuleSpec => ({
  name,
  description,
  priority,
  direction,
  access: 'Allow',
  protocol,
  // Azure wants the singular field for one entry and for service tags.
  ...(sources.length === 1 ? { sourceAddressPrefix: sources[0] } : { sourceAddressPrefixes: sources }),
  ...(destinations.length === 1 ? { destinationAddressPrefix: destinations[0] } : { destinationAddressPrefixes: destinations }),
  ...(ports.length === 1 ? { destinationPortRange: ports[0] } : { destinationPortRanges: ports }),
});

function connectorRules(props: NetworkProps): RuleSpec[] {
  const subnet = props.connectorSubnetCidr;
  const rules: RuleSpec[] = [];
  const api = props.apiAllowedCidrs ?? [];
  const ssh = props.sshAllowedCidrs ?? [];
  if (api.length > 0) rules.push(allowTcp('allow-https-api', 'API callers (network.apiAllowedCidrs).', 100, 'Inbound', api, [subnet], ['443']));
  if (props.loadBalanced) {
    rules.push(allowTcp('allow-https-lb-probe', 'Load balancer health probes on /healthz.', 110, 'Inbound', ['AzureLoadBalancer'], [subnet], ['443']));
  }
  if (ssh.length > 0) rules.push(allowTcp('allow-ssh-admin', 'Administrators (network.sshAllowedCidrs).', 120, 'Inbound', ssh, [subnet], ['22']));
  rules.push(
    allowTcp('allow-private-endpoint-in', 'The connector reaches the Key Vault private endpoint in its own subnet.', 130, 'Inbound', [subnet], [subnet], ['443']),
  );
  if (props.functionUsesPrivateEndpoints) {
    rules.push(
      allowTcp('allow-function-private-endpoints', "The cleanup function reaches its runtime storage's blob private endpoint here.", 140, 'Inbound', [props.functionSubnetCidr], [subnet], ['443']),
    );
  }
  rules.push(
    denyAll('Inbound'),
    allowTcp('allow-hive', 'HiveServer2 on the Hadoop cluster.', 100, 'Outbound', [subnet], props.hive.cidrs, [String(props.hive.port)]),
    allowTcp('allow-storage', "Azure Storage in the stack's region (exports, artifacts, job table).", 110, 'Outbound', [subnet], [props.storageServiceTag], ['443']),
    allowTcp('allow-keyvault', 'Key Vault through its private endpoint in this subnet.', 120, 'Outbound', [subnet], [subnet], ['443']),
    allowTcp('allow-azure-ad', 'Azure AD (Entra ID) token endpoints.', 130, 'Outbound', [subnet], ['AzureActiveDirectory'], ['443']),
    allowTcp('allow-enos-gateway', 'The EnOS API gateway (sign-in).', 140, 'Outbound', [subnet], props.enosGatewayCidrs, ['443']),
    {
      name: 'allow-azure-platform',
      description: 'The Azure WireServer: the VM agent (extensions, rollouts) and platform DNS.',
      priority: 150,
      direction: 'Outbound',
      access: 'Allow',
      protocol: '*',
      sourceAddressPrefix: subnet,
      destinationAddressPrefix: '168.63.129.16/32',
      destinationPortRange: '*',
    },
  );
  const kdcs = props.kerberosKdcCidrs ?? [];
  if (kdcs.length > 0) {
    // MIT Kerberos sends a request below udp_preference_limit (1465 bytes by default) over UDP
    // first and falls back to TCP for larger ones and for KRB5KRB_ERR_RESPONSE_TOO_BIG (krb5.conf(5),
    // [libdefaults]): with TCP alone each kinit would wait out its UDP timeouts first.
    rules.push(
      allow('Tcp', 'allow-kerberos-kdc-tcp', 'Kerberos KDCs of the Hive realm (hadoop.hive.kerberos.kdcCidrs), TCP.', 160, 'Outbound', [subnet], kdcs, ['88']),
      allow('Udp', 'allow-kerberos-kdc-udp', 'Kerberos KDCs of the Hive realm (hadoop.hive.kerberos.kdcCidrs), UDP.', 170, 'Outbound', [subnet], kdcs, ['88']),
    );
  }
  if (props.allowInternetEgress) {
    rules.push(
      allowTcp('allow-internet-web', 'Ubuntu updates and the ACME CA (network.allowInternetEgress).', 200, 'Outbound', [subnet], ['Internet'], ['80', '443']),
    );
  }
  rules.push(denyAll('Outbound'));
  return rules;
}

function functionRules(props: NetworkProps): RuleSpec[] {
  const subnet = props.functionSubnetCidr;
  return [
    denyAll('Inbound'),
    allowTcp('allow-storage', "Azure Storage in the stack's region (exports, job table).", 100, 'Outbound', [subnet], [props.storageServiceTag], ['443']),
    allowTcp('allow-azure-ad', 'Azure AD (Entra ID) token endpoints.', 110, 'Outbound', [subnet], ['AzureActiveDirectory'], ['443']),
    allowTcp('allow-azure-monitor', 'Application Insights.', 120, 'Outbound', [subnet], ['AzureMonitor'], ['443']),
    ...(props.functionUsesPrivateEndpoints
      ? [allowTcp('allow-private-endpoints', "Its runtime storage's blob private endpoint in the connector subnet.", 130, 'Outbound', [subnet], [props.connectorSubnetCidr], ['443'])]
      : []),
    denyAll('Outbound'),
  ];
}

import { Construct } from 'constructs';
import { DataAzurermVirtualNetwork } from '@cdktf/provider-azurerm/lib/data-azurerm-virtual-network/index.js';
import { NatGateway } from '@cdktf/provider-azurerm/lib/nat-gateway/index.js';
import { NatGatewayPublicIpAssociation } from '@cdktf/provider-azurerm/lib/nat-gateway-public-ip-association/index.js';
import { PublicIp } from '@cdktf/provider-azurerm/lib/public-ip/index.js';
import { SubnetNatGatewayAssociation } from '@cdktf/provider-azurerm/lib/subnet-nat-gateway-association/index.js';
import { NetworkSecurityGroup } from '@cdktf/provider-azurerm/lib/network-security-group/index.js';
import { NetworkSecurityRule, type NetworkSecurityRuleConfig } from '@cdktf/provider-azurerm/lib/network-security-rule/index.js';
import { Subnet } from '@cdktf/provider-azurerm/lib/subnet/index.js';
import { SubnetNetworkSecurityGroupAssociation } from '@cdktf/provider-azurerm/lib/subnet-network-security-group-association/index.js';
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
  names: { vnet: string; connectorSubnet: string; functionSubnet: string; connectorNsg: string; functionNsg: string; natGateway: string };
  connectorSubnetCidr: string;
  functionSubnetCidr: string;
  /** Sources allowed to reach the API on 443. @default [] - no inbound HTTPS rule */
  apiAllowedCidrs?: string[];
  /** Sources allowed to SSH. @default [] - no SSH rule at all */
  sshAllowedCidrs?: string[];
  hive: { cidrs: string[]; port: number };
  enosGatewayCidrs: string[];
  /**
   * Outbound 80/443 to the Internet for OS updates, the Node.js download and the ACME CA, through
   * a NAT gateway (the subnet has no implicit default outbound access). @default false
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
 * is limited to Hive, Azure Storage, Key Vault (private endpoint), Azure AD and the EnOS gateway.
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
      // Storage is reached through its service endpoint (and firewall rule for this subnet).
      serviceEndpoints: ['Microsoft.Storage'],
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
): RuleSpec => ({
  name,
  description,
  priority,
  direction,
  access: 'Allow',
  protocol: 'Tcp',
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
    rules.push(allowTcp('allow-https-lb-probe', 'Load balancer health probes on /readyz.', 110, 'Inbound', ['AzureLoadBalancer'], [subnet], ['443']));
  }
  if (ssh.length > 0) rules.push(allowTcp('allow-ssh-admin', 'Administrators (network.sshAllowedCidrs).', 120, 'Inbound', ssh, [subnet], ['22']));
  rules.push(
    allowTcp('allow-private-endpoint-in', 'The connector reaches the Key Vault private endpoint in its own subnet.', 130, 'Inbound', [subnet], [subnet], ['443']),
    denyAll('Inbound'),
    allowTcp('allow-hive', 'HiveServer2 on the Hadoop cluster.', 100, 'Outbound', [subnet], props.hive.cidrs, [String(props.hive.port)]),
    allowTcp('allow-storage', 'Azure Storage (exports, artifacts, job table).', 110, 'Outbound', [subnet], ['Storage'], ['443']),
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
  if (props.allowInternetEgress) {
    rules.push(
      allowTcp('allow-internet-web', 'OS updates, the Node.js download and the ACME CA (network.allowInternetEgress).', 200, 'Outbound', [subnet], ['Internet'], ['80', '443']),
    );
  }
  rules.push(denyAll('Outbound'));
  return rules;
}

function functionRules(props: NetworkProps): RuleSpec[] {
  const subnet = props.functionSubnetCidr;
  return [
    denyAll('Inbound'),
    allowTcp('allow-storage', 'Azure Storage (exports, its own runtime storage, job table).', 100, 'Outbound', [subnet], ['Storage'], ['443']),
    allowTcp('allow-azure-ad', 'Azure AD (Entra ID) token endpoints.', 110, 'Outbound', [subnet], ['AzureActiveDirectory'], ['443']),
    allowTcp('allow-azure-monitor', 'Application Insights.', 120, 'Outbound', [subnet], ['AzureMonitor'], ['443']),
    denyAll('Outbound'),
  ];
}

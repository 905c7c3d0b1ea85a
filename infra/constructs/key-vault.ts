import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault/index.js';
import { MonitorDiagnosticSetting } from '@cdktf/provider-azurerm/lib/monitor-diagnostic-setting/index.js';
import { PrivateDnsZone } from '@cdktf/provider-azurerm/lib/private-dns-zone/index.js';
import { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link/index.js';
import { PrivateEndpoint } from '@cdktf/provider-azurerm/lib/private-endpoint/index.js';
import { ResourceGroupTemplateDeployment } from '@cdktf/provider-azurerm/lib/resource-group-template-deployment/index.js';

export interface ConnectorKeyVaultProps {
  name: string;
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  tenantId: string;
  /** Subnet that hosts the vault's private endpoint (the connector's). */
  privateEndpointSubnetId: string;
  /** VNet whose DNS resolves the vault to the private endpoint. */
  vnetId: string;
  logAnalyticsWorkspaceId: string;
  /** Secret name → value (Terraform expressions; sensitive). */
  secrets: Record<string, string>;
  /** @default 90 */
  softDeleteRetentionDays?: number;
}

/**
 * The Key Vault of the connector's secrets: RBAC authorization, purge protection, no public
 * network access (the VMs reach it through a private endpoint in their subnet), audit logs to
 * Log Analytics.
 *
 * The secrets are written through ARM (a template deployment of Microsoft.KeyVault/vaults/secrets),
 * not the vault's data plane: the deploying machine never needs a network path into the vault,
 * and the values travel as secure template parameters.
 */
export class ConnectorKeyVault extends Construct {
  readonly vault: KeyVault;
  readonly secretsDeployment: ResourceGroupTemplateDeployment;
  /** With its DNS zone group: what makes the vault reachable from the VNet. */
  readonly privateEndpoint: PrivateEndpoint;
  readonly dnsLink: PrivateDnsZoneVirtualNetworkLink;
  /** https://<name>.vault.azure.net/ */
  readonly vaultUri: string;

  constructor(scope: Construct, id: string, props: ConnectorKeyVaultProps) {
    super(scope, id);
    const { resourceGroupName, location, tags } = props;
    this.vault = new KeyVault(this, 'vault', {
      name: props.name,
      resourceGroupName,
      location,
      tags,
      tenantId: props.tenantId,
      skuName: 'standard',
      rbacAuthorizationEnabled: true,
      purgeProtectionEnabled: true,
      softDeleteRetentionDays: props.softDeleteRetentionDays ?? 90,
      publicNetworkAccessEnabled: false,
      enabledForDeployment: false,
      enabledForDiskEncryption: false,
      enabledForTemplateDeployment: false,
      networkAcls: { defaultAction: 'Deny', bypass: 'None', ipRules: [], virtualNetworkSubnetIds: [] },
    });
    this.vaultUri = this.vault.vaultUri;

    const zone = new PrivateDnsZone(this, 'dns_zone', { name: 'privatelink.vaultcore.azure.net', resourceGroupName, tags });
    this.dnsLink = new PrivateDnsZoneVirtualNetworkLink(this, 'dns_link', {
      name: `${props.name}-link`,
      resourceGroupName,
      privateDnsZoneName: zone.name,
      virtualNetworkId: props.vnetId,
      registrationEnabled: false,
      // Other vaults (without a record here) still resolve publicly from the linked VNet.
      resolutionPolicy: 'NxDomainRedirect',
      tags,
    });
    this.privateEndpoint = new PrivateEndpoint(this, 'private_endpoint', {
      name: `pe-${props.name}`,
      resourceGroupName,
      location,
      tags,
      subnetId: props.privateEndpointSubnetId,
      privateServiceConnection: {
        name: `${props.name}-vault`,
        privateConnectionResourceId: this.vault.id,
        subresourceNames: ['vault'],
        isManualConnection: false,
      },
      privateDnsZoneGroup: { name: 'vault', privateDnsZoneIds: [zone.id] },
    });

    new MonitorDiagnosticSetting(this, 'diagnostics', {
      name: 'to-log-analytics',
      targetResourceId: this.vault.id,
      logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
      enabledLog: [{ categoryGroup: 'audit' }],
      enabledMetric: [{ category: 'AllMetrics' }],
    });

    const names = Object.keys(props.secrets);
    const parameters: Record<string, { type: string }> = { vaultName: { type: 'string' } };
    names.forEach((_, index) => (parameters[`secret${index}`] = { type: 'securestring' }));
    this.secretsDeployment = new ResourceGroupTemplateDeployment(this, 'secrets', {
      name: `${props.name}-secrets`,
      resourceGroupName,
      deploymentMode: 'Incremental',
      templateContent: JSON.stringify({
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
        contentVersion: '1.0.0.0',
        parameters,
        resources: names.map((name, index) => ({
          type: 'Microsoft.KeyVault/vaults/secrets',
          apiVersion: '2023-07-01',
          name: `[format('{0}/{1}', parameters('vaultName'), '${name}')]`,
          properties: { value: `[parameters('secret${index}')]`, attributes: { enabled: true } },
        })),
      }),
      parametersContent: Fn.sensitive(
        Fn.jsonencode({
          vaultName: { value: this.vault.name },
          ...Object.fromEntries(names.map((name, index) => [`secret${index}`, { value: props.secrets[name] }])),
        }),
      ),
      dependsOn: [this.vault],
    });
  }
}

import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { KeyVault } from '@cdktf/provider-azurerm/lib/key-vault/index.js';
import { MonitorDiagnosticSetting } from '@cdktf/provider-azurerm/lib/monitor-diagnostic-setting/index.js';
import type { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link/index.js';
import type { PrivateEndpoint } from '@cdktf/provider-azurerm/lib/private-endpoint/index.js';
import { ResourceGroupTemplateDeployment } from '@cdktf/provider-azurerm/lib/resource-group-template-deployment/index.js';
import { addPrivateLink } from './private-link.js';

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
  /** Secret name → value (a Terraform expression; sensitive) and content type (a MIME type). */
  secrets: Record<string, { value: string; contentType: string }>;
  /** Days after each write of the secrets that Key Vault marks them expired. */
  secretExpiryDays: number;
  /** @default 90 */
  softDeleteRetentionDays?: number;
}

/**
 * The Key Vault of the connector's secrets: RBAC authorization, purge protection, no public
 * network access (the VMs reach it through a private endpoint in their subnet), audit logs to
 * Log Analytics. Every secret has a content type and an expiry.
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

    const link = addPrivateLink(this, {
      name: props.name,
      resourceGroupName,
      location,
      tags,
      zoneName: 'privatelink.vaultcore.azure.net',
      targetId: this.vault.id,
      subresource: 'vault',
      subnetId: props.privateEndpointSubnetId,
      vnetId: props.vnetId,
    });
    this.dnsLink = link.dnsLink;
    this.privateEndpoint = link.endpoint;

    new MonitorDiagnosticSetting(this, 'diagnostics', {
      name: 'to-log-analytics',
      targetResourceId: this.vault.id,
      logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
      enabledLog: [{ categoryGroup: 'audit' }],
      enabledMetric: [{ category: 'AllMetrics' }],
    });

    const days = props.secretExpiryDays;
    if (!Number.isInteger(days) || days < 1) throw new Error(`ConnectorKeyVault: secretExpiryDays ${days}; expected a positive whole number of days`);
    const names = Object.keys(props.secrets);
    // The expiry counts from each run of the deployment: utcNow() is allowed only as a parameter's
    // default value, and keeping it out of the Terraform arguments keeps plans free of a diff.
    const parameters: Record<string, { type: string; defaultValue?: string }> = {
      vaultName: { type: 'string' },
      writtenAt: { type: 'string', defaultValue: '[utcNow()]' },
    };
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
          properties: {
            value: `[parameters('secret${index}')]`,
            contentType: props.secrets[name]?.contentType,
            attributes: { enabled: true, exp: `[dateTimeToEpoch(dateTimeAdd(parameters('writtenAt'), 'P${days}D'))]` },
          },
        })),
      }),
      parametersContent: Fn.sensitive(
        Fn.jsonencode({
          vaultName: { value: this.vault.name },
          ...Object.fromEntries(names.map((name, index) => [`secret${index}`, { value: props.secrets[name]?.value }])),
        }),
      ),
      dependsOn: [this.vault],
    });
  }
}

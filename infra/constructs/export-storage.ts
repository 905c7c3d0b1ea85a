import { Construct } from 'constructs';
import { ResourceGroupTemplateDeployment } from '@cdktf/provider-azurerm/lib/resource-group-template-deployment/index.js';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container/index.js';
import { SecureStorageAccount, sasPeriod } from './secure-storage-account.js';

/**
 * The connector starts every SAS this far in the past, for clients whose clock runs behind
 * (CLOCK_SKEW_MS in app/src/storage/blob-sas.ts). Azure measures a SAS from its start to its
 * expiry, so the expiration policy (action Block) must allow the lifetime plus this margin, or a
 * link for a full-lifetime export is refused.
 */
export const SAS_START_SKEW_MINUTES = 5;

export interface ExportStorageProps {
  name: string;
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  replication: 'LRS' | 'ZRS' | 'GRS' | 'GZRS';
  softDeleteDays: number;
  /** The longest an export lives; with SAS_START_SKEW_MINUTES, the SAS expiration policy. */
  maxTtlMinutes: number;
  /**
   * `public`: SAS downloads from anywhere (Azure ML has no fixed egress addresses).
   * `cidrs`: the firewall denies by default and admits `downloadCidrs`, the deployers and the subnets.
   */
  downloadAccess: 'public' | 'cidrs';
  /** @default [] */
  downloadCidrs?: string[];
  /** Machines that upload the connector bundle; admitted in `cidrs` mode. */
  deployerCidrs: string[];
  /** Subnets admitted through their service endpoint (connector, cleanup function). */
  subnetIds: string[];
  logAnalyticsWorkspaceId: string;
  /** The private container exports are written to. */
  exportsContainerName: string;
  /** Create the Table job store's table. @default - none (the SQLite job store is used) */
  jobsTableName?: string;
}

/**
 * The exports account: the private `exports` container the connector writes CSVs to, the
 * `artifacts` container the VMs install the connector bundle from, and (with several instances)
 * the job table.
 */
export class ExportStorage extends Construct {
  readonly account: SecureStorageAccount['account'];
  readonly exportsContainer: StorageContainer;
  readonly artifactsContainer: StorageContainer;
  /** The job table: its ARM id (role scope) and the deployment that creates it (to depend on). */
  readonly jobsTable?: { name: string; id: string; deployment: ResourceGroupTemplateDeployment };

  constructor(scope: Construct, id: string, props: ExportStorageProps) {
    super(scope, id);
    const restricted = props.downloadAccess === 'cidrs';
    const secure = new SecureStorageAccount(this, 'storage', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      tags: props.tags,
      replication: props.replication,
      softDeleteDays: props.softDeleteDays,
      sasExpirationPeriod: sasPeriod(props.maxTtlMinutes + SAS_START_SKEW_MINUTES),
      network: restricted
        ? { defaultAction: 'Deny', ipRules: [...(props.downloadCidrs ?? []), ...props.deployerCidrs], subnetIds: props.subnetIds }
        : { defaultAction: 'Allow', subnetIds: props.subnetIds },
      logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
    });
    this.account = secure.account;

    // storageAccountId (not the name) makes the provider create containers through ARM, so the
    // data-plane firewall and the disabled shared keys do not get in the way.
    this.exportsContainer = new StorageContainer(this, 'exports', {
      name: props.exportsContainerName,
      storageAccountId: this.account.id,
      containerAccessType: 'private',
    });
    this.artifactsContainer = new StorageContainer(this, 'artifacts', {
      name: 'artifacts',
      storageAccountId: this.account.id,
      containerAccessType: 'private',
    });

    if (props.jobsTableName !== undefined) {
      // Created through ARM for the same reason as the containers: azurerm_storage_table would go
      // through the data plane with a shared key.
      const table = new ResourceGroupTemplateDeployment(this, 'jobs_table', {
        name: `${props.name}-jobs-table`,
        resourceGroupName: props.resourceGroupName,
        deploymentMode: 'Incremental',
        templateContent: JSON.stringify({
          $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
          contentVersion: '1.0.0.0',
          parameters: { accountName: { type: 'string' }, tableName: { type: 'string' } },
          resources: [
            {
              type: 'Microsoft.Storage/storageAccounts/tableServices/tables',
              apiVersion: '2023-05-01',
              name: "[format('{0}/default/{1}', parameters('accountName'), parameters('tableName'))]",
            },
          ],
        }),
        parametersContent: JSON.stringify({
          accountName: { value: this.account.name },
          tableName: { value: props.jobsTableName },
        }),
        dependsOn: [this.account],
      });
      this.jobsTable = {
        name: props.jobsTableName,
        id: `${this.account.id}/tableServices/default/tables/${props.jobsTableName}`,
        deployment: table,
      };
    }
  }
}

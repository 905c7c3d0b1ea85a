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
  /** Blob soft delete in days, 0 = off (an export's lifetime is governed; see the config). */
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
  /** The deploy machines (Terraform reads the account's data-plane properties); admitted in `cidrs` mode. */
  deployerCidrs: string[];
  /** Subnets admitted through their service endpoint (connector, cleanup function, deployers). */
  subnetIds: string[];
  logAnalyticsWorkspaceId: string;
  /** The private container exports are written to. */
  exportsContainerName: string;
  /**
   * Tables of the Table job store: the job table and the session revocation list beside it.
   * @default - none (the SQLite job store is used)
   */
  tableNames?: string[];
}

/**
 * The exports account (blob method only): the private `exports` container the connector writes
 * CSVs to and (with several instances) the Table job store's tables.
 */
export class ExportStorage extends Construct {
  readonly account: SecureStorageAccount['account'];
  readonly exportsContainer: StorageContainer;
  /**
   * The Table job store's tables: their names, the ARM id of each table and of the account's table
   * service (role scopes), and the deployment that creates them (to depend on).
   */
  readonly tables?: { names: string[]; idOf(name: string): string; serviceId: string; deployment: ResourceGroupTemplateDeployment };

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
      tableDiagnostics: props.tableNames !== undefined && props.tableNames.length > 0,
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

    if (props.tableNames !== undefined && props.tableNames.length > 0) {
      // Created through ARM for the same reason as the containers: azurerm_storage_table would go
      // through the data plane with a shared key. The construct id keeps its first name.
      const deployment = new ResourceGroupTemplateDeployment(this, 'jobs_table', {
        name: `${props.name}-jobs-table`,
        resourceGroupName: props.resourceGroupName,
        deploymentMode: 'Incremental',
        templateContent: JSON.stringify({
          $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
          contentVersion: '1.0.0.0',
          parameters: { accountName: { type: 'string' }, tableNames: { type: 'array' } },
          resources: [
            {
              type: 'Microsoft.Storage/storageAccounts/tableServices/tables',
              apiVersion: '2023-05-01',
              name: "[format('{0}/default/{1}', parameters('accountName'), parameters('tableNames')[copyIndex()])]",
              copy: { name: 'tables', count: "[length(parameters('tableNames'))]" },
            },
          ],
        }),
        parametersContent: JSON.stringify({
          accountName: { value: this.account.name },
          tableNames: { value: props.tableNames },
        }),
        dependsOn: [this.account],
      });
      const serviceId = `${this.account.id}/tableServices/default`;
      this.tables = { names: [...props.tableNames], idOf: (name) => `${serviceId}/tables/${name}`, serviceId, deployment };
    }
  }
}

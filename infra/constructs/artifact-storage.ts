import { Construct } from 'constructs';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container/index.js';
import { SecureStorageAccount } from './secure-storage-account.js';

export interface ArtifactStorageProps {
  name: string;
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  /** Public addresses of the deploy machines (they upload the bundle). */
  deployerCidrs: string[];
  /** Subnets admitted by service endpoint: the connector's (it downloads) and any deployer subnets. */
  subnetIds: string[];
  logAnalyticsWorkspaceId: string;
}

/**
 * The connector bundles, in an account of their own: unlike exports, a bundle has no governed
 * lifetime, so it keeps versioning and soft delete (a deleted or overwritten release can be
 * recovered), and its firewall denies everyone but the deployers and the connector subnet, also
 * when exports are downloadable from anywhere.
 */
export class ArtifactStorage extends Construct {
  readonly account: SecureStorageAccount['account'];
  readonly container: StorageContainer;

  constructor(scope: Construct, id: string, props: ArtifactStorageProps) {
    super(scope, id);
    const secure = new SecureStorageAccount(this, 'storage', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      tags: props.tags,
      replication: 'ZRS',
      softDeleteDays: 7,
      versioning: true,
      network: { defaultAction: 'Deny', ipRules: props.deployerCidrs, subnetIds: props.subnetIds },
      logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
    });
    this.account = secure.account;
    // storageAccountId (not the name): created through ARM, past the firewall and the disabled keys.
    this.container = new StorageContainer(this, 'artifacts', {
      name: 'artifacts',
      storageAccountId: this.account.id,
      containerAccessType: 'private',
    });
  }
}

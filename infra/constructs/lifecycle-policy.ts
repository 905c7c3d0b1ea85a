import { Construct } from 'constructs';
import { StorageManagementPolicy } from '@cdktf/provider-azurerm/lib/storage-management-policy/index.js';

export interface ExportLifecyclePolicyProps {
  storageAccountId: string;
  /** Container whose blobs expire. */
  containerName: string;
  /** The longest an export may live; the policy deletes one day after that. */
  maxTtlMinutes: number;
}

/**
 * The backstop behind the cleanup function: any blob in the exports container older than the
 * maximum export lifetime plus one day is deleted by the platform, even if the function is down.
 * Lifecycle rules count whole days, hence the rounding up.
 */
export class ExportLifecyclePolicy extends Construct {
  readonly policy: StorageManagementPolicy;
  readonly deleteAfterDays: number;

  constructor(scope: Construct, id: string, props: ExportLifecyclePolicyProps) {
    super(scope, id);
    this.deleteAfterDays = Math.ceil(props.maxTtlMinutes / 1440) + 1;
    this.policy = new StorageManagementPolicy(this, 'policy', {
      storageAccountId: props.storageAccountId,
      rule: [
        {
          name: 'expire-exports',
          enabled: true,
          filters: { blobTypes: ['blockBlob'], prefixMatch: [`${props.containerName}/`] },
          actions: {
            baseBlob: { deleteAfterDaysSinceCreationGreaterThan: this.deleteAfterDays },
            snapshot: { deleteAfterDaysSinceCreationGreaterThan: this.deleteAfterDays },
            version: { deleteAfterDaysSinceCreation: this.deleteAfterDays },
          },
        },
      ],
    });
  }
}

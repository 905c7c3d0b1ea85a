import { Construct } from 'constructs';
import { DataResource, type ITerraformDependable } from 'cdktf';
import { retryingCommand } from './retrying-command.js';

export interface DeployerAccessWaitProps {
  /** `https://<account>.blob.core.windows.net/` */
  blobEndpoint: string;
  containerName: string;
  /** The deployer's role assignment on the container: its id, so a new assignment is waited for again. */
  roleAssignmentId: string;
  /** The role assignment (and whatever else the probe needs). */
  dependsOn: ITerraformDependable[];
  /** Tries, 30 s apart. @default 20 (ten minutes: how long Azure documents a new assignment can take) */
  attempts?: number;
}

/**
 * Holds back the bundle upload until the deploying principal's new data-plane role is in force.
 * Azure applies a role assignment eventually (up to ten minutes), and the provider does not retry
 * a 403 from the blob service, so on a first apply the upload right after the assignment failed
 * and ended the apply. This lists the container with the Azure CLI's identity until that works.
 *
 * The CLI must be signed in as the principal Terraform deploys as (infra/README.md).
 */
export class DeployerAccessWait extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: DeployerAccessWaitProps) {
    super(scope, id);
    this.resource = new DataResource(this, 'wait', {
      triggersReplace: { role_assignment_id: props.roleAssignmentId },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: 'local-exec',
          interpreter: ['/bin/sh', '-c'],
          environment: { BLOB_ENDPOINT: props.blobEndpoint, CONTAINER: props.containerName },
          command: retryingCommand({
            command: 'az storage blob list --auth-mode login --blob-endpoint "$BLOB_ENDPOINT" --container-name "$CONTAINER" --num-results 1 --output none',
            what: 'reading $CONTAINER as the deploying principal',
            attempts: props.attempts ?? 20,
            pauseSeconds: 30,
          }),
        },
      ],
    });
  }
}

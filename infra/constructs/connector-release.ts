import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { StorageBlob } from '@cdktf/provider-azurerm/lib/storage-blob/index.js';
import { BuildArtifact } from './build-artifact.js';

export interface ConnectorReleaseProps {
  /** dist/connector.zip (absolute). */
  bundleFile: string;
  storageAccountName: string;
  /** `https://<account>.blob.core.windows.net/` */
  blobEndpoint: string;
  containerName: string;
  /** What must exist before the upload (the deployer's data-plane role). */
  dependsOn?: ITerraformDependable[];
}

/**
 * The connector bundle in the artifacts container, named by its SHA-256: a new build is a new
 * blob, created before the old one goes, so instances mid-download never see a half-replaced file.
 */
export class ConnectorRelease extends Construct {
  readonly sha256: string;
  /** Where the VMs download the bundle from (with their managed identity). */
  readonly url: string;
  readonly blob: StorageBlob;

  constructor(scope: Construct, id: string, props: ConnectorReleaseProps) {
    super(scope, id);
    const artifact = new BuildArtifact(this, 'bundle', { file: props.bundleFile });
    this.sha256 = artifact.sha256;
    this.blob = new StorageBlob(this, 'blob', {
      name: `connector/${artifact.sha256}.zip`,
      storageAccountName: props.storageAccountName,
      storageContainerName: props.containerName,
      type: 'Block',
      source: artifact.path,
      contentType: 'application/zip',
      dependsOn: props.dependsOn,
      lifecycle: { createBeforeDestroy: true },
    });
    this.url = `${props.blobEndpoint}${props.containerName}/${this.blob.name}`;
  }
}

import { Construct } from 'constructs';
import { DataResource, type ITerraformDependable } from 'cdktf';
import { retryingCommand } from './retrying-command.js';

export interface FunctionPackageDeploymentProps {
  /** Passed explicitly: the CLI's default subscription need not be the one Terraform deploys to. */
  subscriptionId: string;
  resourceGroupName: string;
  functionAppName: string;
  /** The app's ARM id: a new app gets the package again. */
  functionAppId: string;
  /** The package as Terraform sees it (BuildArtifact.path). */
  packagePath: string;
  /** Its SHA-256 (BuildArtifact.sha256): a new build is deployed, an unchanged one is not. */
  packageSha256: string;
  /**
   * What must exist first: the app, and the role that lets the app's identity write the package
   * into its deployment container (Flex Consumption uploads it as the app, not as the deployer).
   */
  dependsOn: ITerraformDependable[];
  /** Tries before giving up; a role assignment made moments ago can take minutes to apply. @default 5 */
  attempts?: number;
}

/**
 * Deploys a Flex Consumption app's package with the Azure CLI, which uses OneDeploy
 * (`/api/publish`) with the deployer's Entra ID token, uploads the package to the app's deployment
 * container and syncs its triggers. The provider's `zip_deploy_file` cannot do this: it posts to
 * `/api/zipdeploy`, which Flex Consumption does not serve, with the site's basic-auth publishing
 * credentials, which the app has turned off.
 *
 * Needs the Azure CLI, signed in, and a POSIX shell on the machine that runs the deploy.
 */
export class FunctionPackageDeployment extends Construct {
  readonly resource: DataResource;

  constructor(scope: Construct, id: string, props: FunctionPackageDeploymentProps) {
    super(scope, id);
    this.resource = new DataResource(this, 'deploy', {
      triggersReplace: { package_sha256: props.packageSha256, function_app_id: props.functionAppId },
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: 'local-exec',
          interpreter: ['/bin/sh', '-c'],
          // Values travel in the environment, so no name or path needs shell quoting here.
          environment: {
            SUBSCRIPTION: props.subscriptionId,
            RESOURCE_GROUP: props.resourceGroupName,
            FUNCTION_APP: props.functionAppName,
            PACKAGE: props.packagePath,
          },
          command: retryingCommand({
            command: 'az functionapp deployment source config-zip --subscription "$SUBSCRIPTION" --resource-group "$RESOURCE_GROUP" --name "$FUNCTION_APP" --src "$PACKAGE"',
            what: 'deploying $PACKAGE to $FUNCTION_APP',
            attempts: props.attempts ?? 5,
            pauseSeconds: 60,
          }),
        },
      ],
    });
  }
}

import { Construct } from 'constructs';
import { FunctionAppFlexConsumption } from '@cdktf/provider-azurerm/lib/function-app-flex-consumption/index.js';
import { MonitorDiagnosticSetting } from '@cdktf/provider-azurerm/lib/monitor-diagnostic-setting/index.js';
import { ServicePlan } from '@cdktf/provider-azurerm/lib/service-plan/index.js';
import { StorageContainer } from '@cdktf/provider-azurerm/lib/storage-container/index.js';
import { addPrivateLink, type PrivateLink } from './private-link.js';
import { SecureStorageAccount } from './secure-storage-account.js';

export interface CleanupFunctionProps {
  names: { servicePlan: string; functionApp: string; functionStorageAccount: string };
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  /** Subnet for VNet integration (delegated to Microsoft.App/environments). */
  subnetId: string;
  /**
   * Where the runtime account's blob private endpoint goes (a subnet without delegation: the
   * connector's), and the VNet whose DNS resolves it.
   */
  privateEndpoint: { subnetId: string; vnetId: string };
  /** Machines that zip-deploy the package: the only sources the SCM site admits. */
  deployerCidrs: string[];
  /** Deploy machines inside Azure VNets, by subnet (they need the Microsoft.Web service endpoint). @default [] */
  deployerSubnetIds?: string[];
  appInsightsConnectionString: string;
  logAnalyticsWorkspaceId: string;
  settings: {
    exportsContainer: string;
    schedule: string;
    maxTtlMinutes: number;
    exportsBlobServiceUrl: string;
    jobsTableUrl?: string;
    jobsTableName?: string;
  };
}

/**
 * The daily cleanup: an Azure Functions Flex Consumption app (Node.js 22) whose system-assigned
 * identity reaches its own runtime storage and the exports account (no keys anywhere), integrated
 * into its own subnet, HTTPS only with TLS 1.3, basic-auth publishing off, logs to Application
 * Insights with Entra ID. The package is deployed by FunctionPackageDeployment, once the app's
 * identity may write to its deployment container.
 *
 * The runtime account's firewall denies by default, and its blob endpoint has a private endpoint:
 * a package deploy (OneDeploy) is uploaded to the deployment container by the platform on the
 * app's behalf, not from the app's subnet, so a service-endpoint rule does not admit it; through
 * the private endpoint it arrives over the app's VNet integration, the path Microsoft's Flex
 * Consumption VNet samples use (Azure-Samples functions-quickstart-*-azd, vnetEnabled). It is
 * safe: the endpoint exposes only this account's blob service to the VNet, the account takes
 * Entra ID only (no shared keys), and only the app's identity holds a data role on it.
 */
export class CleanupFunction extends Construct {
  readonly app: FunctionAppFlexConsumption;
  readonly runtimeStorage: SecureStorageAccount['account'];
  /** The runtime account's blob private endpoint, its zone and VNet link. */
  readonly runtimeBlobLink: PrivateLink;
  readonly principalId: string;

  constructor(scope: Construct, id: string, props: CleanupFunctionProps) {
    super(scope, id);
    const { resourceGroupName, location, tags } = props;

    const storage = new SecureStorageAccount(this, 'runtime_storage', {
      name: props.names.functionStorageAccount,
      resourceGroupName,
      location,
      tags,
      replication: 'LRS',
      // The deployers only so Terraform can read the account's data-plane properties.
      network: { defaultAction: 'Deny', ipRules: props.deployerCidrs, subnetIds: [props.subnetId, ...(props.deployerSubnetIds ?? [])] },
      logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
    });
    this.runtimeStorage = storage.account;
    this.runtimeBlobLink = addPrivateLink(this, {
      name: props.names.functionStorageAccount,
      resourceGroupName,
      location,
      tags,
      zoneName: 'privatelink.blob.core.windows.net',
      targetId: storage.account.id,
      subresource: 'blob',
      subnetId: props.privateEndpoint.subnetId,
      vnetId: props.privateEndpoint.vnetId,
    });
    const packages = new StorageContainer(this, 'packages', {
      name: 'app-package',
      storageAccountId: storage.account.id,
      containerAccessType: 'private',
    });

    const plan = new ServicePlan(this, 'plan', {
      name: props.names.servicePlan,
      resourceGroupName,
      location,
      tags,
      osType: 'Linux',
      skuName: 'FC1',
    });

    this.app = new FunctionAppFlexConsumption(this, 'app', {
      name: props.names.functionApp,
      resourceGroupName,
      location,
      tags,
      servicePlanId: plan.id,
      runtimeName: 'node',
      runtimeVersion: '22',
      instanceMemoryInMb: 2048,
      maximumInstanceCount: 40,
      storageContainerType: 'blobContainer',
      storageContainerEndpoint: `${storage.account.primaryBlobEndpoint}${packages.name}`,
      storageAuthenticationType: 'SystemAssignedIdentity',
      identity: { type: 'SystemAssigned' },
      httpsOnly: true,
      // Off would close the SCM site too, which takes the package deploy; the front door denies anyway.
      publicNetworkAccessEnabled: true,
      webdeployPublishBasicAuthenticationEnabled: false,
      virtualNetworkSubnetId: props.subnetId,
      siteConfig: {
        minimumTlsVersion: '1.3',
        scmMinimumTlsVersion: '1.3',
        http2Enabled: true,
        remoteDebuggingEnabled: false,
        // Every outbound call through the subnet: the NSG applies, and the storage firewalls admit
        // the app by the subnet's service endpoint (otherwise only private ranges use the VNet).
        vnetRouteAllEnabled: true,
        applicationInsightsConnectionString: props.appInsightsConnectionString,
        // The function has no HTTP trigger: nobody needs the app's front door.
        ipRestrictionDefaultAction: 'Deny',
        scmIpRestrictionDefaultAction: 'Deny',
        scmUseMainIpRestriction: false,
        scmIpRestriction: [
          ...props.deployerCidrs.map((ipAddress) => ({ ipAddress })),
          ...(props.deployerSubnetIds ?? []).map((virtualNetworkSubnetId) => ({ virtualNetworkSubnetId })),
        ].map((source, index) => ({ name: `deployer-${index}`, action: 'Allow', priority: 100 + index, ...source })),
      },
      appSettings: {
        // Identity-based host storage: the runtime account holds no usable key. The provider adds
        // AzureWebJobsStorage as a connection string with an empty key (azurerm 4.x, Flex), which the
        // host would prefer over the identity form; a user setting of that name wins the merge, and
        // an empty value sends the host to AzureWebJobsStorage__accountName. Terraform shows it as
        // a change on every plan (the provider hides the key when it reads the app back).
        AzureWebJobsStorage: '',
        AzureWebJobsStorage__accountName: storage.account.name,
        // Application Insights accepts Entra ID tokens only (local authentication off): the host
        // sends as the app's system-assigned identity (Monitoring Metrics Publisher on it).
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
        EXPORTS_CONTAINER: props.settings.exportsContainer,
        CLEANUP_SCHEDULE: props.settings.schedule,
        EXPORT_MAX_TTL_MINUTES: String(props.settings.maxTtlMinutes),
        EXPORTS_BLOB_SERVICE_URL: props.settings.exportsBlobServiceUrl,
        ...(props.settings.jobsTableUrl !== undefined && props.settings.jobsTableName !== undefined
          ? { JOBS_TABLE_URL: props.settings.jobsTableUrl, JOBS_TABLE_NAME: props.settings.jobsTableName }
          : {}),
      },
    });
    this.principalId = this.app.identity.principalId;

    new MonitorDiagnosticSetting(this, 'diagnostics', {
      name: 'to-log-analytics',
      targetResourceId: this.app.id,
      logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
      enabledLog: [{ category: 'FunctionAppLogs' }],
    });
  }
}

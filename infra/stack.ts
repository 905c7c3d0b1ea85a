/**
 * The whole deployment as one stack: it only wires the constructs (one per Azure concern, under
 * constructs/) from the validated config. Construct ids are a public contract: renaming one
 * renames the Terraform address and replaces the resource.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Construct } from 'constructs';
import { AzurermBackend, Fn, TerraformOutput, TerraformStack } from 'cdktf';
import { AzurermProvider } from '@cdktf/provider-azurerm/lib/provider/index.js';
import { DataAzurermClientConfig } from '@cdktf/provider-azurerm/lib/data-azurerm-client-config/index.js';
import { ResourceGroup } from '@cdktf/provider-azurerm/lib/resource-group/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import type { DeployConfig } from './config.js';
import { resourceNames } from './naming.js';
import { terraformText } from './terraform-text.js';
import { renderCloudInit, renderEnvFile, renderExtensionScript, renderSettingsFile, VM_PATHS } from './connector-bootstrap.js';
import { CleanupFunction } from './constructs/cleanup-function.js';
import { ConnectorIdentity, ConnectorScaleSet, ConnectorVm, type ConnectorHostProps } from './constructs/connector-host.js';
import { ConnectorRelease } from './constructs/connector-release.js';
import { ConnectorSecrets } from './constructs/connector-secrets.js';
import { FunctionPackageDeployment } from './constructs/function-package-deployment.js';
import { BuildArtifact } from './constructs/build-artifact.js';
import { ExportStorage } from './constructs/export-storage.js';
import { ConnectorKeyVault } from './constructs/key-vault.js';
import { ExportLifecyclePolicy } from './constructs/lifecycle-policy.js';
import { Monitoring } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { ROLES, RoleAssignments, type Grant } from './constructs/role-assignments.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXPORTS_CONTAINER = 'exports';
const JOBS_TABLE = 'exportjobs';
/** The connector keeps revoked sessions beside its jobs (REVOCATIONS_TABLE in app/src/composition.ts). */
const REVOCATIONS_TABLE = 'revokedsessions';

export interface ConnectorStackProps {
  config: DeployConfig;
  /**
   * Build outputs to deploy.
   * @default - dist/connector.zip and dist/cleanup-function.zip in the repository
   */
  artifacts?: { connectorZip: string; cleanupZip: string };
}

export class ConnectorStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ConnectorStackProps) {
    super(scope, id);
    const { config } = props;
    const names = resourceNames(config);
    const artifacts = props.artifacts ?? {
      connectorZip: resolve(REPO_ROOT, 'dist/connector.zip'),
      cleanupZip: resolve(REPO_ROOT, 'dist/cleanup-function.zip'),
    };
    const location = config.location;
    const tags = { application: 'enos-aml-connector', environment: config.environment, ...config.tags };
    const scaleOut = config.vm.instanceCount > 1;
    const blobMethod = config.storage.method === 'blob';

    new AzurermProvider(this, 'azurerm', {
      features: [{}],
      subscriptionId: config.subscriptionId,
      // Shared keys are disabled on every account: the provider's data-plane calls use Azure AD.
      storageUseAzuread: true,
    });
    new RandomProvider(this, 'random');
    if (config.backend) {
      const { type: _type, ...backend } = config.backend;
      new AzurermBackend(this, { ...backend, useAzureadAuth: true });
    }

    const client = new DataAzurermClientConfig(this, 'client');
    const group = new ResourceGroup(this, 'resource_group', { name: names.resourceGroup, location, tags });
    const resourceGroupName = group.name;
    const base = { resourceGroupName, location, tags };

    const monitoring = new Monitoring(this, 'monitoring', { ...base, names });

    const hiveCidrs = config.hadoop.hive.cidrs ?? [`${config.hadoop.hive.host}/32`];
    const network = new Network(this, 'network', {
      ...base,
      hadoopVnet: { resourceGroupName: config.hadoop.vnet.resourceGroupName, name: config.hadoop.vnet.name },
      mode: config.network.mode,
      vnetAddressSpace: config.network.vnetAddressSpace,
      names,
      connectorSubnetCidr: config.network.connectorSubnet,
      functionSubnetCidr: config.network.functionSubnet,
      apiAllowedCidrs: config.network.apiAllowedCidrs,
      sshAllowedCidrs: config.network.sshAllowedCidrs,
      hive: { cidrs: hiveCidrs, port: config.hadoop.hive.port },
      enosGatewayCidrs: config.enos.gatewayCidrs,
      allowInternetEgress: config.network.allowInternetEgress,
      loadBalanced: scaleOut,
    });

    const storage = new ExportStorage(this, 'storage', {
      ...base,
      name: names.storageAccount,
      exportsContainerName: EXPORTS_CONTAINER,
      replication: config.storage.replication,
      softDeleteDays: config.storage.softDeleteDays,
      maxTtlMinutes: config.exports.maxTtlMinutes,
      downloadAccess: config.storage.downloadAccess,
      downloadCidrs: config.storage.downloadCidrs,
      deployerCidrs: config.network.deployerCidrs,
      subnetIds: [network.connectorSubnet.id, network.functionSubnet.id],
      logAnalyticsWorkspaceId: monitoring.workspace.id,
      tableNames: scaleOut ? [JOBS_TABLE, REVOCATIONS_TABLE] : undefined,
    });
    new ExportLifecyclePolicy(this, 'lifecycle', {
      storageAccountId: storage.account.id,
      containerName: EXPORTS_CONTAINER,
      maxTtlMinutes: config.exports.maxTtlMinutes,
    });

    const secrets = new ConnectorSecrets(this, 'secrets', {
      ...config.secrets,
      hivePassword: config.hadoop.hive.auth === 'PLAIN',
      tlsCertificate: config.tls.mode === 'keyvault',
    });
    const keyVault = new ConnectorKeyVault(this, 'key_vault', {
      ...base,
      name: names.keyVault,
      tenantId: client.tenantId,
      privateEndpointSubnetId: network.connectorSubnet.id,
      vnetId: network.vnetId,
      logAnalyticsWorkspaceId: monitoring.workspace.id,
      secrets: secrets.values,
    });

    const roles = new RoleAssignments(this, 'roles');
    // The deploying principal uploads the bundle through the data plane (Azure AD, no keys).
    const deployerWriter = roles.grant({
      id: 'deployer_artifacts_writer',
      principalId: client.objectId,
      role: ROLES.blobContributor,
      scope: storage.artifactsContainer.id,
      description: 'The deploying principal uploads connector bundles.',
    });
    const release = new ConnectorRelease(this, 'release', {
      bundleFile: artifacts.connectorZip,
      storageAccountName: storage.account.name,
      blobEndpoint: storage.account.primaryBlobEndpoint,
      containerName: storage.artifactsContainer.name,
      dependsOn: [deployerWriter],
    });

    // The API's name: known up front for a public IP (its DNS label) or a configured host name.
    const publicFqdn = config.network.publicIp.enabled ? `${config.network.publicIp.dnsLabel}.${location}.cloudapp.azure.com` : undefined;
    const knownHost = config.network.apiHostname ?? publicFqdn;
    const tlsMode = config.tls.mode;
    const connectorPort = tlsMode === 'keyvault' ? 443 : 8080;
    const hive = config.hadoop.hive;
    // A scale set needs its identity (and roles) before it exists; one VM keeps its own.
    const scaleSetIdentity = scaleOut ? new ConnectorIdentity(this, 'connector_identity', { ...base, name: `id-${names.connector}` }) : undefined;

    const connectorEnv: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      // Behind Caddy the connector listens on loopback only; with its own certificate it faces the NSG.
      HOST: tlsMode === 'keyvault' ? '0.0.0.0' : '127.0.0.1',
      PORT: String(connectorPort),
      ...(knownHost !== undefined ? { PUBLIC_BASE_URL: `https://${knownHost}` } : {}),
      ...(tlsMode === 'keyvault' ? { TLS_CERT_FILE: VM_PATHS.tlsCert, TLS_KEY_FILE: VM_PATHS.tlsKey } : { TRUST_PROXY: 'loopback' }),
      STORAGE_METHOD: config.storage.method,
      BLOB_ACCOUNT_URL: storage.account.primaryBlobEndpoint,
      BLOB_CONTAINER: EXPORTS_CONTAINER,
      LOCAL_EXPORT_DIR: VM_PATHS.localExportDir,
      JOB_STORE: scaleOut ? 'table' : 'sqlite',
      ...(scaleOut
        ? { TABLE_ACCOUNT_URL: storage.account.primaryTableEndpoint, JOBS_TABLE_NAME: JOBS_TABLE }
        : { SQLITE_FILE: VM_PATHS.sqliteFile }),
      HIVE_HOST: hive.host,
      HIVE_PORT: String(hive.port),
      HIVE_TRANSPORT: hive.transport,
      HIVE_HTTP_PATH: hive.httpPath,
      HIVE_AUTH: hive.auth,
      ...(hive.username !== undefined ? { HIVE_USERNAME: hive.username } : {}),
      ENOS_BASE_URL: config.enos.gatewayUrl,
      ENOS_APP_KEY: config.enos.appKey,
      EXPORT_DEFAULT_TTL_MINUTES: String(config.exports.defaultTtlMinutes),
      EXPORT_MAX_TTL_MINUTES: String(config.exports.maxTtlMinutes),
      ORG_ACCESS: JSON.stringify(config.orgAccess),
      // Read by the Azure SDK's DefaultAzureCredential, not by the connector's config.
      ...(scaleSetIdentity ? { AZURE_CLIENT_ID: scaleSetIdentity.clientId } : {}),
    };
    const bootstrapSettings: Record<string, string> = {
      BUNDLE_URL: release.url,
      BUNDLE_SHA256: release.sha256,
      NODE_VERSION: config.vm.nodejsVersion,
      TLS_MODE: tlsMode,
      CONNECTOR_PORT: String(connectorPort),
      KEY_VAULT_URL: keyVault.vaultUri,
      SECRET_MAP: Object.entries(secrets.envToSecret)
        .map(([env, secret]) => `${env}=${secret}`)
        .join(' '),
      ...(secrets.tlsSecretName !== undefined ? { TLS_SECRET_NAME: secrets.tlsSecretName } : {}),
      ...(tlsMode === 'acme' && publicFqdn !== undefined ? { ACME_DOMAIN: publicFqdn } : {}),
      ...(config.tls.acmeEmail !== undefined ? { ACME_EMAIL: config.tls.acmeEmail } : {}),
      ...(scaleSetIdentity ? { IDENTITY_CLIENT_ID: scaleSetIdentity.clientId } : {}),
    };

    const hostProps: ConnectorHostProps = {
      ...base,
      names,
      subnetId: network.connectorSubnet.id,
      size: config.vm.size,
      image: config.vm.image,
      adminUsername: config.vm.adminUsername,
      sshPublicKeys: config.vm.sshPublicKeys,
      osDiskSizeGb: config.vm.osDiskSizeGb,
      publicIp: config.network.publicIp.enabled ? { dnsLabel: config.network.publicIp.dnsLabel } : undefined,
      customData: Buffer.from(renderCloudInit({ nodeVersion: config.vm.nodejsVersion, tlsMode })).toString('base64'),
      extensionScript: renderExtensionScript({
        bootstrapEnvBase64: Fn.base64encode(terraformText(renderSettingsFile(bootstrapSettings))),
        connectorEnvBase64: Fn.base64encode(terraformText(renderEnvFile(connectorEnv))),
      }),
    };
    const host = scaleSetIdentity
      ? new ConnectorScaleSet(this, 'connector', { ...hostProps, instanceCount: config.vm.instanceCount, identity: scaleSetIdentity })
      : new ConnectorVm(this, 'connector', hostProps);

    const grants: Grant[] = [
      {
        id: 'connector_artifacts_reader',
        principalId: host.principalId,
        role: ROLES.blobReader,
        scope: storage.artifactsContainer.id,
        principalType: 'ServicePrincipal',
        description: 'The connector VMs download their bundle.',
      },
      {
        id: 'connector_secrets_user',
        principalId: host.principalId,
        role: ROLES.secretsUser,
        scope: keyVault.vault.id,
        principalType: 'ServicePrincipal',
        description: 'The connector reads its secrets at service start.',
      },
    ];
    if (blobMethod) {
      grants.push(
        {
          id: 'connector_exports_owner',
          principalId: host.principalId,
          role: ROLES.blobOwner,
          scope: storage.exportsContainer.id,
          principalType: 'ServicePrincipal',
          description: 'The connector writes exports and their expiresAt index tag, in the exports container only.',
        },
        {
          id: 'connector_sas_delegator',
          principalId: host.principalId,
          role: ROLES.blobDelegator,
          scope: storage.account.id,
          principalType: 'ServicePrincipal',
          description: 'The connector signs user-delegation SAS (they grant no more than its container role).',
        },
      );
    }
    if (storage.tables) {
      grants.push({
        id: 'connector_jobs_table',
        principalId: host.principalId,
        role: ROLES.tableContributor,
        // The table service, not one table: the connector opens the job table and the revocation
        // list, and its stores call Create Table (an account-level request) before first use.
        scope: storage.tables.serviceId,
        principalType: 'ServicePrincipal',
        dependsOn: [storage.tables.deployment],
        description: 'Every connector instance reads and writes the shared job table and revoked sessions.',
      });
    }

    let functionAppName = 'none (storage.method is local: the connector sweeps its own disk)';
    if (blobMethod) {
      const cleanupPackage = new BuildArtifact(this, 'cleanup_package', { file: artifacts.cleanupZip });
      const cleanup = new CleanupFunction(this, 'cleanup', {
        ...base,
        names,
        subnetId: network.functionSubnet.id,
        deployerCidrs: config.network.deployerCidrs,
        publicNetworkAccess: config.cleanup.publicNetworkAccess,
        appInsightsConnectionString: monitoring.appInsights.connectionString,
        logAnalyticsWorkspaceId: monitoring.workspace.id,
        settings: {
          exportsContainer: EXPORTS_CONTAINER,
          schedule: config.cleanup.schedule,
          maxTtlMinutes: config.exports.maxTtlMinutes,
          exportsBlobServiceUrl: storage.account.primaryBlobEndpoint,
          ...(storage.tables ? { jobsTableUrl: storage.account.primaryTableEndpoint, jobsTableName: JOBS_TABLE } : {}),
        },
      });
      functionAppName = cleanup.app.name;
      const runtimeStorage = roles.grant({
        id: 'cleanup_runtime_storage',
        principalId: cleanup.principalId,
        role: ROLES.blobOwner,
        scope: cleanup.runtimeStorage.id,
        principalType: 'ServicePrincipal',
        description: 'The Functions host keeps its leases and package in its own account.',
      });
      new FunctionPackageDeployment(this, 'cleanup_package_deploy', {
        subscriptionId: client.subscriptionId,
        resourceGroupName,
        functionAppName: cleanup.app.name,
        functionAppId: cleanup.app.id,
        packagePath: cleanupPackage.path,
        packageSha256: cleanupPackage.sha256,
        dependsOn: [cleanup.app, runtimeStorage],
      });
      grants.push(
        {
          id: 'cleanup_exports_owner',
          principalId: cleanup.principalId,
          role: ROLES.blobOwner,
          scope: storage.exportsContainer.id,
          principalType: 'ServicePrincipal',
          description: 'The cleanup finds expired exports by index tag and deletes them, in the exports container only.',
        },
      );
      if (storage.tables) {
        grants.push({
          id: 'cleanup_jobs_table',
          principalId: cleanup.principalId,
          role: ROLES.tableContributor,
          scope: storage.tables.idOf(JOBS_TABLE),
          principalType: 'ServicePrincipal',
          dependsOn: [storage.tables.deployment],
          description: 'The cleanup marks jobs of deleted exports as expired.',
        });
      }
    }
    const connectorGrants = grants.map((grant) => ({ grant, assignment: roles.grant(grant) })).filter(({ grant }) => grant.principalId === host.principalId);
    // The first deploy reads the bundle and the secrets with the identity's roles, reaches the vault
    // through its private endpoint, and downloads Node.js and packages over the NAT gateway.
    host.deployAfter([
      ...connectorGrants.map(({ assignment }) => assignment),
      keyVault.secretsDeployment,
      keyVault.privateEndpoint,
      keyVault.dnsLink,
      ...(network.connectorEgress ? [network.connectorEgress] : []),
    ]);

    const apiHost = knownHost ?? host.address;
    new TerraformOutput(this, 'api_url', { value: `https://${apiHost}`, description: 'Where the connector API and web page answer.' });
    new TerraformOutput(this, 'storage_account', { value: storage.account.name });
    new TerraformOutput(this, 'exports_container', { value: storage.exportsContainer.name });
    new TerraformOutput(this, 'function_app_name', { value: functionAppName });
    new TerraformOutput(this, 'key_vault_name', { value: keyVault.vault.name });
    new TerraformOutput(this, 'resource_group_name', { value: resourceGroupName });
  }
}

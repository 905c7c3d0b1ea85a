/**
 * The whole deployment as one stack: it only wires the constructs (one per Azure concern, under
 * constructs/) from the validated config. Construct ids are a public contract: renaming one
 * renames the Terraform address and replaces the resource.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Construct } from 'constructs';
import { AzurermBackend, Fn, TerraformOutput, TerraformStack } from 'cdktf';
import { AzurermProvider, type AzurermProviderFeatures } from '@cdktf/provider-azurerm/lib/provider/index.js';
import { DataAzurermClientConfig } from '@cdktf/provider-azurerm/lib/data-azurerm-client-config/index.js';
import { ResourceGroup } from '@cdktf/provider-azurerm/lib/resource-group/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import type { DeployConfig } from './config.js';
import { resourceNames } from './naming.js';
import { terraformText } from './terraform-text.js';
import { renderCloudInit, renderEnvFile, renderExtensionScript, renderSettingsFile, VM_PATHS } from './connector-bootstrap.js';
import { regionalServiceTag } from './azure-regions.js';
import { ArtifactStorage } from './constructs/artifact-storage.js';
import { CleanupFunction } from './constructs/cleanup-function.js';
import { ConnectorIdentity, ConnectorScaleSet, ConnectorVm, type ConnectorHostProps } from './constructs/connector-host.js';
import { ConnectorRelease } from './constructs/connector-release.js';
import { ConnectorSecrets } from './constructs/connector-secrets.js';
import { DeployerAccessWait } from './constructs/deployer-access-wait.js';
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

/**
 * How azurerm treats what it destroys (`features`; defaults in the provider's
 * internal/features/defaults.go). Each setting is here because the default breaks a destroy or a
 * redeploy of this stack:
 * - template_deployment: the provider deletes the resources an ARM deployment created when it
 *   destroys the deployment (default true). Key Vault secrets cannot be deleted through ARM, so
 *   destroying the secrets deployment failed; they go with the vault instead.
 * - application_insights: Azure adds a "Failure Anomalies" smart detector alert rule (and an action
 *   group) to the resource group of a new Application Insights resource; the provider disables it.
 * - resource_group: those two resources are not in Terraform's state, and with the default
 *   (prevent_deletion_if_contains_resources true) they stopped the resource group's deletion. The
 *   group is the stack's own (created by it, holding nothing else), so its contents go with it.
 * - key_vault: a destroyed vault stays soft-deleted (purge protection), and the next apply with the
 *   same name recovers it instead of failing (recover_soft_deleted_key_vaults, also the default);
 *   the provider is not asked to purge what it cannot purge.
 */
export const PROVIDER_FEATURES: AzurermProviderFeatures = {
  templateDeployment: [{ deleteNestedItemsDuringDeletion: false }],
  applicationInsights: [{ disableGeneratedRule: true }],
  resourceGroup: [{ preventDeletionIfContainsResources: false }],
  keyVault: [{ recoverSoftDeletedKeyVaults: true, purgeSoftDeleteOnDestroy: false }],
};

/**
 * Resource providers the subscription needs registered, beyond azurerm's minimal "core" set
 * (internal/resourceproviders/required.go). Microsoft.App is in none of the provider's sets, and
 * Flex Consumption's VNet integration (a subnet delegated to Microsoft.App/environments) fails
 * without it.
 */
export function resourceProvidersFor(config: DeployConfig): string[] {
  const base = ['Microsoft.KeyVault', 'Microsoft.OperationalInsights', 'microsoft.insights'];
  return config.storage.method === 'blob' ? [...base, 'Microsoft.App', 'Microsoft.Web'] : base;
}

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
    const { deployerCidrs, deployerSubnetIds } = config.network;

    new AzurermProvider(this, 'azurerm', {
      features: [PROVIDER_FEATURES],
      subscriptionId: config.subscriptionId,
      // Shared keys are disabled on every account: the provider's data-plane calls use Azure AD.
      storageUseAzuread: true,
      resourceProviderRegistrations: 'core',
      resourceProvidersToRegister: resourceProvidersFor(config),
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
    const storageServiceTag = regionalServiceTag('Storage', location);
    if (storageServiceTag === undefined) throw new Error(`ConnectorStack: location "${location}" has no Storage service tag in infra/azure-regions.ts; expected a listed region`);
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
      kerberosKdcCidrs: config.hadoop.hive.kerberos?.kdcCidrs,
      enosGatewayCidrs: config.enos.gatewayCidrs,
      storageServiceTag,
      // The resource group holds the stack's storage accounts and nothing else. Naming each account
      // instead would make the accounts (whose firewalls name the subnet) and the subnet (which
      // names the policy) depend on each other.
      storageAllowList: [group.id],
      routeTable: config.network.routeTable ?? (config.network.mode === 'subnet' ? 'inherit' : 'none'),
      functionUsesPrivateEndpoints: blobMethod,
      allowInternetEgress: config.network.allowInternetEgress,
      loadBalanced: scaleOut,
    });

    const bundles = new ArtifactStorage(this, 'artifacts', {
      ...base,
      name: names.artifactsStorageAccount,
      deployerCidrs,
      subnetIds: [network.connectorSubnet.id, ...deployerSubnetIds],
      logAnalyticsWorkspaceId: monitoring.workspace.id,
    });

    const storage = blobMethod
      ? new ExportStorage(this, 'storage', {
          ...base,
          name: names.storageAccount,
          exportsContainerName: EXPORTS_CONTAINER,
          replication: config.storage.replication,
          softDeleteDays: config.storage.softDeleteDays,
          maxTtlMinutes: config.exports.maxTtlMinutes,
          downloadAccess: config.storage.downloadAccess,
          downloadCidrs: config.storage.downloadCidrs,
          deployerCidrs,
          subnetIds: [network.connectorSubnet.id, network.functionSubnet.id, ...deployerSubnetIds],
          logAnalyticsWorkspaceId: monitoring.workspace.id,
          tableNames: scaleOut ? [JOBS_TABLE, REVOCATIONS_TABLE] : undefined,
        })
      : undefined;
    if (storage) {
      new ExportLifecyclePolicy(this, 'lifecycle', {
        storageAccountId: storage.account.id,
        containerName: EXPORTS_CONTAINER,
        maxTtlMinutes: config.exports.maxTtlMinutes,
      });
    }

    const certificate = config.tls.keyVaultCertificate;
    const secrets = new ConnectorSecrets(this, 'secrets', {
      ...config.secrets,
      hivePassword: config.hadoop.hive.auth === 'PLAIN',
      hiveKerberosKeytab: config.hadoop.hive.auth === 'KERBEROS',
      hiveTlsCaPem: config.hadoop.hive.tls.enabled ? config.hadoop.hive.tls.caPem : undefined,
      tls: config.tls.mode === 'keyvault' ? (certificate !== undefined ? { certificate } : 'variable') : undefined,
    });
    const keyVault = new ConnectorKeyVault(this, 'key_vault', {
      ...base,
      name: names.keyVault,
      tenantId: client.tenantId,
      privateEndpointSubnetId: network.connectorSubnet.id,
      vnetId: network.vnetId,
      logAnalyticsWorkspaceId: monitoring.workspace.id,
      secrets: secrets.values,
      secretExpiryDays: config.secrets.expiryDays,
    });

    const roles = new RoleAssignments(this, 'roles');
    // The deploying principal uploads the bundle through the data plane (Azure AD, no keys).
    const deployerWriter = roles.grant({
      id: 'deployer_artifacts_writer',
      principalId: client.objectId,
      role: ROLES.blobContributor,
      scope: bundles.container.id,
      description: 'The deploying principal uploads connector bundles.',
    });
    const deployerAccess = new DeployerAccessWait(this, 'deployer_access', {
      blobEndpoint: bundles.account.primaryBlobEndpoint,
      containerName: bundles.container.name,
      roleAssignmentId: deployerWriter.id,
      dependsOn: [deployerWriter],
    });
    const release = new ConnectorRelease(this, 'release', {
      bundleFile: artifacts.connectorZip,
      storageAccountName: bundles.account.name,
      blobEndpoint: bundles.account.primaryBlobEndpoint,
      containerName: bundles.container.name,
      dependsOn: [deployerAccess.resource],
    });

    // The API's name: known up front for a public IP (its DNS label), a configured host name, or
    // the fixed address of a private load balancer.
    const publicFqdn = config.network.publicIp.enabled ? `${config.network.publicIp.dnsLabel}.${location}.cloudapp.azure.com` : undefined;
    const knownHost = config.network.apiHostname ?? publicFqdn ?? (scaleOut ? config.network.loadBalancerPrivateIp : undefined);
    // A scale set needs its identity (and roles) before it exists; one VM keeps its own.
    const scaleSetIdentity = scaleOut ? new ConnectorIdentity(this, 'connector_identity', { ...base, name: `id-${names.connector}` }) : undefined;
    const settings = connectorSettings({
      config,
      knownHost,
      publicFqdn,
      blobEndpoint: storage?.account.primaryBlobEndpoint,
      tableEndpoint: storage?.tables ? storage.account.primaryTableEndpoint : undefined,
      release,
      vaultUri: keyVault.vaultUri,
      secrets,
      identityClientId: scaleSetIdentity?.clientId,
    });

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
      customData: Buffer.from(renderCloudInit({ tlsMode: config.tls.mode })).toString('base64'),
      extensionScript: renderExtensionScript({
        bootstrapEnvBase64: Fn.base64encode(terraformText(renderSettingsFile(settings.bootstrap))),
        connectorEnvBase64: Fn.base64encode(terraformText(renderEnvFile(settings.connector))),
      }),
    };
    const host = scaleSetIdentity
      ? new ConnectorScaleSet(this, 'connector', {
          ...hostProps,
          instanceCount: config.vm.instanceCount,
          identity: scaleSetIdentity,
          loadBalancerPrivateIp: config.network.loadBalancerPrivateIp,
        })
      : new ConnectorVm(this, 'connector', hostProps);

    const grants: Grant[] = [
      {
        id: 'connector_artifacts_reader',
        principalId: host.principalId,
        role: ROLES.blobReader,
        scope: bundles.container.id,
        principalType: 'ServicePrincipal',
        description: 'The connector VMs download their bundle.',
      },
      {
        id: 'connector_secrets_user',
        principalId: host.principalId,
        role: ROLES.secretsUser,
        scope: keyVault.vault.id,
        principalType: 'ServicePrincipal',
        description: 'The connector reads its secrets (and its certificate\'s key) at service start.',
      },
    ];
    if (storage) {
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
    if (storage?.tables) {
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
    if (storage) {
      const cleanupPackage = new BuildArtifact(this, 'cleanup_package', { file: artifacts.cleanupZip });
      const cleanup = new CleanupFunction(this, 'cleanup', {
        ...base,
        names,
        subnetId: network.functionSubnet.id,
        privateEndpoint: { subnetId: network.connectorSubnet.id, vnetId: network.vnetId },
        deployerCidrs,
        deployerSubnetIds,
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
      const telemetry = roles.grant({
        id: 'cleanup_telemetry',
        principalId: cleanup.principalId,
        role: ROLES.metricsPublisher,
        scope: monitoring.appInsights.id,
        principalType: 'ServicePrincipal',
        description: 'The Functions host sends telemetry with Entra ID (the instrumentation key is refused).',
      });
      new FunctionPackageDeployment(this, 'cleanup_package_deploy', {
        subscriptionId: client.subscriptionId,
        resourceGroupName,
        functionAppName: cleanup.app.name,
        functionAppId: cleanup.app.id,
        packagePath: cleanupPackage.path,
        packageSha256: cleanupPackage.sha256,
        // The platform writes the package to the runtime account through the blob private endpoint.
        dependsOn: [cleanup.app, runtimeStorage, telemetry, cleanup.runtimeBlobLink.endpoint, cleanup.runtimeBlobLink.dnsLink],
      });
      const cleanupRole = roles.defineRole({
        id: 'cleanup_exports_role',
        name: names.cleanupRole,
        description: 'What the enos-aml-connector cleanup function does in the exports container, and nothing else.',
        scope: group.id,
        dataActions: CLEANUP_DATA_ACTIONS,
      });
      grants.push({
        id: 'cleanup_exports',
        principalId: cleanup.principalId,
        role: cleanupRole,
        scope: storage.exportsContainer.id,
        principalType: 'ServicePrincipal',
        description: 'The cleanup finds expired exports by index tag and deletes them, in the exports container only.',
      });
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
    // through its private endpoint, and (with egress allowed) Ubuntu's mirrors over the NAT gateway.
    host.deployAfter([
      ...connectorGrants.map(({ assignment }) => assignment),
      keyVault.secretsDeployment,
      keyVault.privateEndpoint,
      keyVault.dnsLink,
      ...(network.connectorEgress ? [network.connectorEgress] : []),
    ]);

    const apiHost = knownHost ?? host.address;
    new TerraformOutput(this, 'api_url', { value: `https://${apiHost}`, description: 'Where the connector API and web page answer.' });
    new TerraformOutput(this, 'api_address', {
      value: host.address,
      description: 'The address behind the API URL (map network.apiHostname to it): the public DNS name, the load balancer frontend or the VM.',
    });
    new TerraformOutput(this, 'storage_account', { value: storage ? storage.account.name : 'none (storage.method is local)' });
    new TerraformOutput(this, 'artifacts_storage_account', { value: bundles.account.name });
    new TerraformOutput(this, 'exports_container', { value: storage ? storage.exportsContainer.name : 'none (storage.method is local)' });
    new TerraformOutput(this, 'function_app_name', { value: functionAppName });
    new TerraformOutput(this, 'key_vault_name', { value: keyVault.vault.name });
    new TerraformOutput(this, 'resource_group_name', { value: resourceGroupName });
  }
}

/**
 * The data actions the cleanup function performs in the exports container (cleanup-function/src):
 * Find Blobs by Tags on the container (tag-query.ts), list blobs with metadata and tags and read
 * its cursor blob (fallback-pass.ts), delete blobs under an `x-ms-if-tags` condition, which needs
 * tag read (batch-delete.ts), and write and delete the cursor blob. Storage Blob Data Owner would
 * add tag writes, ownership and ACL changes it never makes. (Permissions per operation: "Authorize
 * access to blobs using Microsoft Entra ID", Azure Storage docs.)
 */
export const CLEANUP_DATA_ACTIONS = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/read',
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/filter/action',
];

interface ConnectorSettingsInputs {
  config: DeployConfig;
  /** The name the API is reached at, when known before apply. */
  knownHost?: string;
  publicFqdn?: string;
  blobEndpoint?: string;
  tableEndpoint?: string;
  release: ConnectorRelease;
  vaultUri: string;
  secrets: ConnectorSecrets;
  identityClientId?: string;
}

/**
 * What the VM is told: the connector's environment (connector.env) and the bootstrap's own
 * settings (bootstrap.env). Neither holds a secret: the VM reads those from Key Vault at start.
 */
function connectorSettings(inputs: ConnectorSettingsInputs): { connector: Record<string, string>; bootstrap: Record<string, string> } {
  const { config, knownHost, secrets } = inputs;
  const tlsMode = config.tls.mode;
  const connectorPort = tlsMode === 'keyvault' ? 443 : 8080;
  const hive = config.hadoop.hive;
  const connector: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    // Behind Caddy the connector listens on loopback only; with its own certificate it faces the NSG.
    HOST: tlsMode === 'keyvault' ? '0.0.0.0' : '127.0.0.1',
    PORT: String(connectorPort),
    ...(knownHost !== undefined ? { PUBLIC_BASE_URL: `https://${knownHost}` } : {}),
    ...(tlsMode === 'keyvault' ? { TLS_CERT_FILE: VM_PATHS.tlsCert, TLS_KEY_FILE: VM_PATHS.tlsKey } : { TRUST_PROXY: 'loopback' }),
    STORAGE_METHOD: config.storage.method,
    ...(inputs.blobEndpoint !== undefined ? { BLOB_ACCOUNT_URL: inputs.blobEndpoint, BLOB_CONTAINER: EXPORTS_CONTAINER } : {}),
    LOCAL_EXPORT_DIR: VM_PATHS.localExportDir,
    JOB_STORE: inputs.tableEndpoint !== undefined ? 'table' : 'sqlite',
    ...(inputs.tableEndpoint !== undefined ? { TABLE_ACCOUNT_URL: inputs.tableEndpoint, JOBS_TABLE_NAME: JOBS_TABLE } : { SQLITE_FILE: VM_PATHS.sqliteFile }),
    HIVE_HOST: hive.host,
    HIVE_PORT: String(hive.port),
    HIVE_TRANSPORT: hive.transport,
    HIVE_HTTP_PATH: hive.httpPath,
    HIVE_AUTH: hive.auth,
    ...(hive.username !== undefined ? { HIVE_USERNAME: hive.username } : {}),
    ...hiveSettings(config, secrets),
    ENOS_BASE_URL: config.enos.gatewayUrl,
    ENOS_APP_KEY: config.enos.appKey,
    EXPORT_DEFAULT_TTL_MINUTES: String(config.exports.defaultTtlMinutes),
    EXPORT_MAX_TTL_MINUTES: String(config.exports.maxTtlMinutes),
    ORG_ACCESS: JSON.stringify(config.orgAccess),
    // Read by the Azure SDK's DefaultAzureCredential, not by the connector's config.
    ...(inputs.identityClientId !== undefined ? { AZURE_CLIENT_ID: inputs.identityClientId } : {}),
  };
  const bootstrap: Record<string, string> = {
    BUNDLE_URL: inputs.release.url,
    BUNDLE_SHA256: inputs.release.sha256,
    TLS_MODE: tlsMode,
    CONNECTOR_PORT: String(connectorPort),
    KEY_VAULT_URL: inputs.vaultUri,
    SECRET_MAP: Object.entries(secrets.envToSecret)
      .map(([env, secret]) => `${env}=${secret}`)
      .join(' '),
    ...(secrets.tlsSecretName !== undefined ? { TLS_SECRET_NAME: secrets.tlsSecretName } : {}),
    ...hiveBootstrapSettings(config, secrets),
    ...(tlsMode === 'acme' && inputs.publicFqdn !== undefined ? { ACME_DOMAIN: inputs.publicFqdn } : {}),
    ...(config.tls.acmeEmail !== undefined ? { ACME_EMAIL: config.tls.acmeEmail } : {}),
    ...(inputs.identityClientId !== undefined ? { IDENTITY_CLIENT_ID: inputs.identityClientId } : {}),
  };
  return { connector, bootstrap };
}

/** The connector's Hive TLS, Kerberos, version and impersonation keys (app/README.md, "Hive"). */
function hiveSettings(config: DeployConfig, secrets: ConnectorSecrets): Record<string, string> {
  const { tls, kerberos, impersonation } = config.hadoop.hive;
  return {
    HIVE_TLS: String(tls.enabled),
    ...(secrets.hiveTlsCaSecretName !== undefined ? { HIVE_TLS_CA_FILE: VM_PATHS.hiveTlsCa } : {}),
    ...(tls.serverName !== undefined ? { HIVE_TLS_SERVER_NAME: tls.serverName } : {}),
    ...(tls.insecureAllowPlainWithoutTls ? { HIVE_INSECURE_ALLOW_PLAIN_WITHOUT_TLS: 'true' } : {}),
    ...(kerberos !== undefined
      ? {
          HIVE_KERBEROS_PRINCIPAL: kerberos.principal,
          HIVE_KERBEROS_SERVICE: kerberos.service,
          HIVE_KERBEROS_SERVICE_HOST: kerberos.serviceHost ?? config.hadoop.hive.host,
          HIVE_KRB5_CONF: VM_PATHS.krb5Conf,
        }
      : {}),
    HIVE_SERVER_VERSION: config.hadoop.hive.serverVersion,
    HIVE_IMPERSONATION: impersonation.mode,
    ...(impersonation.proxyUserTemplate !== undefined ? { HIVE_PROXY_USER_TEMPLATE: impersonation.proxyUserTemplate } : {}),
  };
}

/**
 * What the bootstrap does for Hive: fetch the CA bundle into a file at every start (its hash here
 * also makes a CA change roll out as a new extension run, and lets the VM check what Key Vault
 * returned), and for Kerberos install kinit and write krb5.conf (base64: it spans lines).
 */
function hiveBootstrapSettings(config: DeployConfig, secrets: ConnectorSecrets): Record<string, string> {
  const { tls, kerberos } = config.hadoop.hive;
  return {
    ...(secrets.hiveTlsCaSecretName !== undefined && tls.caPem !== undefined
      ? { HIVE_TLS_CA_SECRET_NAME: secrets.hiveTlsCaSecretName, HIVE_TLS_CA_SHA256: createHash('sha256').update(tls.caPem).digest('hex') }
      : {}),
    ...(kerberos !== undefined ? { KERBEROS_CLIENT: kerberos.kinit, KRB5_CONF_B64: Buffer.from(kerberos.krb5Conf).toString('base64') } : {}),
  };
}

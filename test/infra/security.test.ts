/**
 * The security properties of the synthesized stack, one named test per property, mirroring the
 * Checkov rules a scanner would run on this Terraform (the rule ids are in the test names). Every
 * variant that changes the shape of the stack (network mode, storage method, scale-out, storage
 * firewall) is synthesized and checked.
 */
import { describe, expect, it } from 'vitest';
import { SAS_START_SKEW_MINUTES } from '../../infra/constructs/export-storage.js';
import { sasPeriod } from '../../infra/constructs/secure-storage-account.js';
import { kerberosPatch } from './hive-fixtures.js';
import { configWith, metadataPath, synthesize, type Json, type Synthesized } from './synth.js';

const variants: [string, () => Synthesized][] = [
  ['subnet mode, blob storage, one VM, public SAS downloads, Key Vault TLS', () => synthesize(configWith({}))],
  [
    'peered VNet, local storage, ACME TLS on a public IP, SSH from admins',
    () =>
      synthesize(
        configWith({
          network: {
            mode: 'peered-vnet',
            vnetAddressSpace: '10.60.0.0/24',
            connectorSubnet: '10.60.0.0/27',
            functionSubnet: '10.60.0.32/27',
            apiAllowedCidrs: ['0.0.0.0/0'],
            sshAllowedCidrs: ['203.0.113.0/28'],
            publicIp: { enabled: true, dnsLabel: 'enos-export' },
          },
          storage: { method: 'local' },
          tls: { mode: 'acme', acmeEmail: 'ops@example.com' },
          exports: { maxTtlMinutes: 4320 },
        }),
      ),
  ],
  [
    'scale set of 3, blob storage behind a firewall, a deployer inside a VNet, exports soft delete on',
    () =>
      synthesize(
        configWith({
          vm: { instanceCount: 3 },
          storage: { downloadAccess: 'cidrs', downloadCidrs: ['198.51.100.0/24', '192.0.2.7/32'], softDeleteDays: 3 },
          network: { deployerSubnetIds: [DEPLOYER_SUBNET] },
        }),
      ),
  ],
  ['Hive over TLS with the cluster CA and Kerberos (keytab from Key Vault)', () => synthesize(configWith(kerberosPatch()))],
];

const DEPLOYER_SUBNET = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-build/providers/Microsoft.Network/virtualNetworks/vnet-build/subnets/agents';

const SECRET_VARIABLES = [
  'var.enos_app_secret',
  'var.hive_password',
  'var.hive_kerberos_keytab',
  'var.tls_certificate_pem',
  'var.session_signing_key',
  'var.url_signing_key',
  'var.file_encryption_key',
];

function storageAccounts(s: Synthesized): Json[] {
  return Object.values(s.resources('azurerm_storage_account'));
}

function nsgRules(s: Synthesized): Json[] {
  return Object.values(s.resources('azurerm_network_security_rule'));
}

function sources(rule: Json): string[] {
  return [rule.source_address_prefix, ...((rule.source_address_prefixes as string[] | undefined) ?? [])].filter((v): v is string => typeof v === 'string');
}
function destinations(rule: Json): string[] {
  return [rule.destination_address_prefix, ...((rule.destination_address_prefixes as string[] | undefined) ?? [])].filter((v): v is string => typeof v === 'string');
}
function ports(rule: Json): string[] {
  return [rule.destination_port_range, ...((rule.destination_port_ranges as string[] | undefined) ?? [])].filter((v): v is string => typeof v === 'string');
}
function connectorRules(s: Synthesized): Json[] {
  return nsgRules(s).filter((rule) => metadataPath(rule).includes('/network/connector_'));
}
function hostResource(s: Synthesized): Json {
  return s.config.vm.instanceCount > 1 ? s.only('azurerm_linux_virtual_machine_scale_set') : s.only('azurerm_linux_virtual_machine');
}
function extensionText(s: Synthesized): string {
  if (s.config.vm.instanceCount > 1) {
    const [extension] = hostResource(s).extension as Json[];
    return String(extension?.protected_settings);
  }
  return String(s.only('azurerm_virtual_machine_extension').protected_settings);
}
function decodedCustomData(s: Synthesized): string {
  return Buffer.from(String(hostResource(s).custom_data), 'base64').toString('utf8');
}

describe.each(variants)('%s', (_name, build) => {
  const s = build();
  const { config } = s;
  const blobMethod = config.storage.method === 'blob';
  // No exports account with the local method: exports stay on the VM's disk.
  const exportsAccount = blobMethod ? s.at('azurerm_storage_account', 'storage/storage/account') : undefined;
  const artifactsAccount = s.at('azurerm_storage_account', 'artifacts/storage/account');
  const deployerSubnets = config.network.deployerSubnetIds;

  describe('storage accounts', () => {
    it('CKV_AZURE_3: every account accepts HTTPS only', () => {
      for (const account of storageAccounts(s)) expect(account.https_traffic_only_enabled).toBe(true);
    });
    it('CKV_AZURE_44: every account requires TLS 1.2 or later', () => {
      for (const account of storageAccounts(s)) expect(account.min_tls_version).toBe('TLS1_2');
    });
    it('CKV_AZURE_190: no account allows anonymous (nested public) blob access', () => {
      for (const account of storageAccounts(s)) expect(account.allow_nested_items_to_be_public).toBe(false);
    });
    it('CKV_AZURE_35 as configured: the exports firewall denies by default unless public SAS downloads are configured', () => {
      if (!exportsAccount) return expect(Object.keys(s.resources('azurerm_storage_account'))).toHaveLength(1);
      const rules = exportsAccount.network_rules as Json;
      if (config.storage.downloadAccess === 'cidrs') {
        expect(rules.default_action).toBe('Deny');
        // /32 entries become bare addresses: the storage firewall rejects /31 and /32.
        expect(rules.ip_rules).toEqual(expect.arrayContaining(['198.51.100.0/24', '192.0.2.7', '203.0.113.10']));
        // Connector, cleanup function, and the deployers inside VNets.
        expect(rules.virtual_network_subnet_ids).toEqual([expect.stringMatching(/network_connector_subnet/), expect.stringMatching(/network_function_subnet/), ...deployerSubnets]);
      } else {
        expect(rules.default_action).toBe('Allow');
        // The SAS is the only key: anonymous access and shared keys stay off.
        expect(exportsAccount.allow_nested_items_to_be_public).toBe(false);
        expect(exportsAccount.shared_access_key_enabled).toBe(false);
      }
    });
    it('CKV_AZURE_35: the bundles account always denies by default and admits the deployers and the connector subnet only', () => {
      const rules = artifactsAccount.network_rules as Json;
      expect(rules.default_action).toBe('Deny');
      expect(rules.ip_rules).toEqual(config.network.deployerCidrs.map((cidr) => cidr.replace(/\/3[12]$/, '')));
      expect(rules.virtual_network_subnet_ids).toEqual([expect.stringMatching(/network_connector_subnet/), ...deployerSubnets]);
    });
    it('CKV_AZURE_35: the function runtime account always denies by default', () => {
      if (!blobMethod) return expect(s.resources('azurerm_function_app_flex_consumption')).toEqual({});
      const runtime = s.at('azurerm_storage_account', 'cleanup/runtime_storage/account');
      expect((runtime.network_rules as Json).default_action).toBe('Deny');
    });
    it('no private range reaches a storage firewall IP rule (azurerm refuses 10/8, 172.16/12, 192.168/16)', () => {
      for (const account of storageAccounts(s)) {
        for (const rule of ((account.network_rules as Json).ip_rules as string[] | undefined) ?? []) {
          expect(rule).not.toMatch(/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)/);
        }
      }
    });
    it('CKV2_AZURE_40: shared key access is disabled on every account', () => {
      for (const account of storageAccounts(s)) expect(account.shared_access_key_enabled).toBe(false);
    });
    it('CKV2_AZURE_41: the exports account blocks SAS longer than the maximum export lifetime (plus the start-time skew)', () => {
      if (!exportsAccount) return;
      expect(exportsAccount.sas_policy).toEqual({
        expiration_period: sasPeriod(config.exports.maxTtlMinutes + SAS_START_SKEW_MINUTES),
        expiration_action: 'Block',
      });
      for (const account of storageAccounts(s)) expect((account.sas_policy as Json).expiration_period).toMatch(/^\d+\.\d\d:\d\d:00$/);
    });
    it('CKV2_AZURE_38 where it fits: bundles keep versions and soft delete; exports only as configured (their lifetime is governed)', () => {
      expect(artifactsAccount.blob_properties).toMatchObject({ delete_retention_policy: { days: 7 }, container_delete_retention_policy: { days: 7 }, versioning_enabled: true });
      if (!exportsAccount) return;
      const blob = exportsAccount.blob_properties as Json;
      if (config.storage.softDeleteDays > 0) expect(blob.delete_retention_policy).toEqual({ days: config.storage.softDeleteDays });
      else expect(blob.delete_retention_policy).toBeUndefined();
      expect(blob.versioning_enabled).toBe(false);
      expect(blob.container_delete_retention_policy).toEqual({ days: 7 });
    });
    it('infrastructure encryption (double encryption at rest) is on for every account', () => {
      for (const account of storageAccounts(s)) expect(account.infrastructure_encryption_enabled).toBe(true);
    });
    it('cross-tenant replication is off and copies stay within the tenant', () => {
      for (const account of storageAccounts(s)) {
        expect(account.cross_tenant_replication_enabled).toBe(false);
        expect(account.allowed_copy_scope).toBe('AAD');
      }
    });
    it('accounts are StorageV2 and send diagnostics to Log Analytics', () => {
      const diagnostics = Object.values(s.resources('azurerm_monitor_diagnostic_setting'));
      for (const account of storageAccounts(s)) {
        expect(account.account_kind).toBe('StorageV2');
        const id = Object.entries(s.resources('azurerm_storage_account')).find(([, a]) => a === account)?.[0];
        const targets = diagnostics.map((d) => String(d.target_resource_id));
        expect(targets).toContain(`\${azurerm_storage_account.${id}.id}`);
        expect(targets).toContain(`\${azurerm_storage_account.${id}.id}/blobServices/default`);
      }
      for (const setting of diagnostics) expect(String(setting.log_analytics_workspace_id)).toMatch(/^\$\{azurerm_log_analytics_workspace\./);
    });
    it('the exports and artifacts containers are private', () => {
      const containers = Object.values(s.resources('azurerm_storage_container'));
      expect(containers.map((c) => c.name)).toEqual(expect.arrayContaining(blobMethod ? ['exports', 'artifacts'] : ['artifacts']));
      for (const container of containers) expect(container.container_access_type).toBe('private');
    });
  });

  describe('lifecycle policy', () => {
    it('deletes exports older than the maximum lifetime plus one day, snapshots and versions too', () => {
      if (!blobMethod) return expect(s.resources('azurerm_storage_management_policy')).toEqual({});
      const policy = s.only('azurerm_storage_management_policy');
      const [rule] = policy.rule as Json[];
      const days = Math.ceil(config.exports.maxTtlMinutes / 1440) + 1;
      expect(rule?.filters).toEqual({ blob_types: ['blockBlob'], prefix_match: ['exports/'] });
      expect(rule?.actions).toEqual({
        base_blob: { delete_after_days_since_creation_greater_than: days },
        snapshot: { delete_after_days_since_creation_greater_than: days },
        version: { delete_after_days_since_creation: days },
      });
    });
  });

  describe('network', () => {
    it('CKV2_AZURE_31: every subnet the stack creates has an NSG', () => {
      const subnets = Object.keys(s.resources('azurerm_subnet'));
      const associated = Object.values(s.resources('azurerm_subnet_network_security_group_association')).map((a) => a.subnet_id);
      expect(subnets.length).toBe(2);
      for (const id of subnets) expect(associated).toContain(`\${azurerm_subnet.${id}.id}`);
    });
    it('CKV_AZURE_10: SSH is never open to the Internet, and only to the admin CIDRs when listed', () => {
      const ssh = nsgRules(s).filter((rule) => rule.direction === 'Inbound' && rule.access === 'Allow' && (ports(rule).includes('22') || ports(rule).includes('*')));
      for (const rule of ssh) {
        for (const source of sources(rule)) expect(['*', '0.0.0.0/0', 'Internet', 'Any']).not.toContain(source);
      }
      if (config.network.sshAllowedCidrs.length === 0) expect(ssh).toEqual([]);
      else expect(ssh.flatMap(sources)).toEqual(config.network.sshAllowedCidrs);
    });
    it('inbound HTTPS comes only from the allowed CIDRs (and the load balancer probe when scaled out)', () => {
      const allowedIn = connectorRules(s).filter((rule) => rule.direction === 'Inbound' && rule.access === 'Allow');
      const https = allowedIn.filter((rule) => ports(rule).includes('443'));
      const apiSources = https.filter((rule) => rule.name === 'allow-https-api').flatMap(sources);
      expect(apiSources).toEqual(config.network.apiAllowedCidrs);
      const others = https.filter((rule) => rule.name !== 'allow-https-api').flatMap(sources);
      // The probe when scaled out; the subnet itself (Key Vault endpoint); the cleanup function (its runtime storage's blob endpoint).
      expect(others.sort()).toEqual(
        [...(config.vm.instanceCount > 1 ? ['AzureLoadBalancer'] : []), config.network.connectorSubnet, ...(blobMethod ? [config.network.functionSubnet] : [])].sort(),
      );
      // Nothing else inbound but SSH.
      for (const rule of allowedIn) expect(['443', '22']).toContain(ports(rule)[0]);
    });
    it('everything else inbound and outbound is denied at the lowest priority', () => {
      for (const prefix of ['/network/connector_', '/network/function_']) {
        for (const direction of ['Inbound', 'Outbound']) {
          const deny = nsgRules(s).find((rule) => metadataPath(rule).includes(prefix) && rule.direction === direction && rule.access === 'Deny');
          expect(deny).toMatchObject({ priority: 4096, protocol: '*', source_address_prefix: '*', destination_address_prefix: '*', destination_port_range: '*' });
        }
      }
    });
    it('outbound is allowed to Hive (and its KDCs with Kerberos), Azure Storage, Key Vault, Azure AD and the EnOS gateway', () => {
      const out = connectorRules(s).filter((rule) => rule.direction === 'Outbound' && rule.access === 'Allow');
      const byName = Object.fromEntries(out.map((rule) => [rule.name as string, rule]));
      expect(destinations(byName['allow-hive'] as Json)).toEqual([`${config.hadoop.hive.host}/32`]);
      expect(ports(byName['allow-hive'] as Json)).toEqual([String(config.hadoop.hive.port)]);
      // The region's Storage tag only, not every account in every region.
      expect(destinations(byName['allow-storage'] as Json)).toEqual(['Storage.WestEurope']);
      expect(destinations(byName['allow-keyvault'] as Json)).toEqual([config.network.connectorSubnet]);
      expect(destinations(byName['allow-azure-ad'] as Json)).toEqual(['AzureActiveDirectory']);
      expect(destinations(byName['allow-enos-gateway'] as Json)).toEqual(config.enos.gatewayCidrs);
      const kerberos = config.hadoop.hive.kerberos;
      if (kerberos) for (const name of ['allow-kerberos-kdc-tcp', 'allow-kerberos-kdc-udp']) expect(destinations(byName[name] as Json)).toEqual(kerberos.kdcCidrs);
      expect(Object.keys(byName).sort()).toEqual(
        [
          'allow-azure-ad',
          'allow-azure-platform',
          'allow-enos-gateway',
          'allow-hive',
          'allow-internet-web',
          'allow-kerberos-kdc-tcp',
          'allow-kerberos-kdc-udp',
          'allow-keyvault',
          'allow-storage',
        ].filter((name) => (name !== 'allow-internet-web' || config.network.allowInternetEgress) && (!name.startsWith('allow-kerberos') || kerberos !== undefined)),
      );
    });
    it('the subnets live where the network mode says, and a new VNet is peered both ways', () => {
      const subnets = Object.values(s.resources('azurerm_subnet'));
      const peerings = Object.values(s.resources('azurerm_virtual_network_peering'));
      if (config.network.mode === 'subnet') {
        for (const subnet of subnets) expect(subnet.virtual_network_name).toBe(config.hadoop.vnet.name);
        expect(peerings).toEqual([]);
        expect(s.resources('azurerm_virtual_network')).toEqual({});
      } else {
        const vnet = s.only('azurerm_virtual_network');
        expect(vnet.address_space).toEqual([config.network.vnetAddressSpace]);
        expect(peerings.map((p) => p.resource_group_name).sort()).toEqual([config.hadoop.vnet.resourceGroupName, '${azurerm_resource_group.resource_group.name}'].sort());
        const remotes = peerings.map((p) => String(p.remote_virtual_network_id));
        expect(remotes.filter((id) => id.startsWith('${data.azurerm_virtual_network.network_hadoop_vnet_'))).toHaveLength(1);
        expect(remotes.filter((id) => id.startsWith('${azurerm_virtual_network.network_connector_vnet_'))).toHaveLength(1);
      }
      expect(s.json.data.azurerm_virtual_network).toBeDefined();
    });
  });

  describe('connector VM', () => {
    it('CKV_AZURE_149: password authentication is disabled', () => {
      expect(hostResource(s).disable_password_authentication).toBe(true);
      expect(hostResource(s).admin_password).toBeUndefined();
    });
    it('CKV_AZURE_178: SSH keys are the only way in', () => {
      expect(hostResource(s).admin_ssh_key).toEqual(config.vm.sshPublicKeys.map((key) => ({ username: config.vm.adminUsername, public_key: key })));
    });
    it('CKV_AZURE_45: no secret in custom data or in the deploy extension', () => {
      const customData = decodedCustomData(s);
      expect(customData.startsWith('#cloud-config\n')).toBe(true);
      expect(customData).not.toMatch(/var\.|random_bytes|SECRET=|PASSWORD=|KEY=|PRIVATE KEY/);
      const extension = extensionText(s);
      for (const variable of SECRET_VARIABLES) expect(extension).not.toContain(variable);
      expect(extension).not.toContain('random_bytes');
      // Secrets reach Azure only through the Key Vault template deployment.
      for (const variable of SECRET_VARIABLES) {
        for (const [type, resources] of Object.entries(s.json.resource)) {
          for (const resource of Object.values(resources)) {
            if (JSON.stringify(resource).includes(variable)) expect(type).toBe('azurerm_resource_group_template_deployment');
          }
        }
      }
    });
    it('encryption at host, Trusted Launch, boot diagnostics and a managed identity (system-assigned; user-assigned for a scale set)', () => {
      const host = hostResource(s);
      expect(host).toMatchObject({ encryption_at_host_enabled: true, secure_boot_enabled: true, vtpm_enabled: true, boot_diagnostics: {} });
      expect((host.identity as Json).type).toBe(config.vm.instanceCount > 1 ? 'UserAssigned' : 'SystemAssigned');
      expect(host.source_image_reference).toEqual(config.vm.image);
    });
    it('OS patches are applied automatically (a scale set of an image Azure does not upgrade patches in place)', () => {
      const host = hostResource(s);
      if (config.vm.instanceCount > 1) {
        // Ubuntu 24.04 x64 is not on Azure's list of automatically upgraded images: unattended-upgrades patches it.
        expect(host.automatic_os_upgrade_policy).toBeUndefined();
      } else {
        expect(host).toMatchObject({ patch_mode: 'AutomaticByPlatform', patch_assessment_mode: 'AutomaticByPlatform', provision_vm_agent: true });
      }
    });
    it('a public IP exists only when configured', () => {
      const publicIps = Object.values(s.resources('azurerm_public_ip')).filter((ip) => !metadataPath(ip).includes('/network/nat_ip'));
      if (config.network.publicIp.enabled) {
        expect(publicIps).toHaveLength(1);
        expect(publicIps[0]?.domain_name_label).toBe(config.network.publicIp.dnsLabel);
      } else {
        expect(publicIps).toEqual([]);
      }
    });
    it('the bundle hash rolls out through the deploy extension, not through custom data', () => {
      expect(extensionText(s)).toContain('BUNDLE_SHA256=');
      expect(decodedCustomData(s)).not.toContain('BUNDLE');
      if (config.vm.instanceCount === 1) {
        expect(s.only('azurerm_linux_virtual_machine').lifecycle).toEqual({ ignore_changes: ['custom_data'] });
      }
    });
  });

  describe('Key Vault', () => {
    const vault = s.only('azurerm_key_vault');
    it('CKV_AZURE_110: purge protection is on', () => {
      expect(vault.purge_protection_enabled).toBe(true);
      expect(vault.soft_delete_retention_days).toBe(90);
    });
    it('CKV_AZURE_189: public network access is off; the VMs use a private endpoint', () => {
      expect(vault.public_network_access_enabled).toBe(false);
      expect(vault.network_acls).toEqual({ default_action: 'Deny', bypass: 'None', ip_rules: [], virtual_network_subnet_ids: [] });
      const endpoint = s.at('azurerm_private_endpoint', 'key_vault/private_endpoint');
      expect(endpoint.subnet_id).toMatch(/^\$\{azurerm_subnet\.network_connector_subnet_/);
      expect((endpoint.private_service_connection as Json).subresource_names).toEqual(['vault']);
    });
    it('authorization is Azure RBAC, not access policies', () => {
      expect(vault.rbac_authorization_enabled).toBe(true);
      expect(s.resources('azurerm_key_vault_access_policy')).toEqual({});
    });
    it('every secret has a content type and an expiry (CKV_AZURE_114, CKV_AZURE_41)', () => {
      const template = JSON.parse(String(s.at('azurerm_resource_group_template_deployment', 'key_vault/secrets').template_content)) as {
        parameters: Record<string, { defaultValue?: string }>;
        resources: { name: string; properties: { contentType?: string; attributes: { exp?: string } } }[];
      };
      expect(template.resources.length).toBeGreaterThan(3);
      for (const secret of template.resources) {
        expect(secret.properties.contentType, secret.name).toMatch(/^(text\/plain|application\/x-pem-file)$/);
        expect(secret.properties.attributes.exp, secret.name).toBe(`[dateTimeToEpoch(dateTimeAdd(parameters('writtenAt'), 'P${config.secrets.expiryDays}D'))]`);
      }
      expect(template.parameters.writtenAt?.defaultValue).toBe('[utcNow()]');
    });
    it('holds the EnOS app secret and the three connector keys, generated or supplied, never literal', () => {
      const deployment = s.at('azurerm_resource_group_template_deployment', 'key_vault/secrets');
      const template = JSON.parse(String(deployment.template_content)) as { resources: { name: string }[] };
      const names = template.resources.map((r) => /'([a-z-]+)'\)\]$/.exec(r.name)?.[1]);
      expect(names).toEqual(expect.arrayContaining(['enos-app-secret', 'session-signing-key', 'url-signing-key', 'file-encryption-key']));
      const parameters = String(deployment.parameters_content);
      expect(parameters.startsWith('${sensitive(')).toBe(true);
      expect(parameters).toContain('var.enos_app_secret');
      expect(parameters).toContain('random_bytes.secrets_session_signing_key');
      for (const bytes of Object.values(s.resources('random_bytes'))) expect(bytes.length).toBe(32);
      for (const variable of Object.values(s.json.variable ?? {})) expect(variable.sensitive).toBe(true);
    });
  });

  describe('cleanup function', () => {
    if (config.storage.method === 'local') {
      it('is not deployed with local storage (the connector sweeps its own disk)', () => {
        expect(s.resources('azurerm_function_app_flex_consumption')).toEqual({});
        expect(s.json.output.function_app_name?.value).toMatch(/^none/);
      });
      return;
    }
    const app = (): Json => s.only('azurerm_function_app_flex_consumption');
    it('CKV_AZURE_70: HTTPS only', () => {
      expect(app().https_only).toBe(true);
    });
    it('CKV_AZURE_145: the latest TLS (1.3) for the app and its SCM site', () => {
      expect(app().site_config).toMatchObject({ minimum_tls_version: '1.3', scm_minimum_tls_version: '1.3' });
    });
    it('CKV_AZURE_221 in substance: the front door denies everyone (no HTTP trigger); the SCM site admits only the deployers', () => {
      // Public network access stays on: off would close the SCM site that takes the package deploy.
      expect(app().public_network_access_enabled).toBe(true);
      const deployers = [...config.network.deployerCidrs.map((ip_address) => ({ ip_address })), ...deployerSubnets.map((virtual_network_subnet_id) => ({ virtual_network_subnet_id }))];
      expect(app().site_config).toMatchObject({
        ip_restriction_default_action: 'Deny',
        scm_ip_restriction_default_action: 'Deny',
        scm_ip_restriction: deployers.map((source, index) => ({ name: `deployer-${index}`, action: 'Allow', priority: 100 + index, ...source })),
      });
    });
    it('sends telemetry with Entra ID to an Application Insights that refuses the instrumentation key', () => {
      expect(s.only('azurerm_application_insights').local_authentication_disabled).toBe(true);
      expect((app().app_settings as Json).APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe('Authorization=AAD');
      const publisher = Object.values(s.resources('azurerm_role_assignment')).filter((a) => a.role_definition_name === 'Monitoring Metrics Publisher');
      expect(publisher).toEqual([expect.objectContaining({ principal_id: expect.stringMatching(/azurerm_function_app_flex_consumption\..*identity\[0\]\.principal_id/), scope: expect.stringMatching(/azurerm_application_insights\..*\.id/) })]);
    });
    it('basic-auth publishing (FTP/WebDeploy) is off', () => {
      expect(app().webdeploy_publish_basic_authentication_enabled).toBe(false);
    });
    it("the Functions host reaches its own storage with the app's identity, not with the provider's empty-key connection string", () => {
      // azurerm writes AzureWebJobsStorage=DefaultEndpointsProtocol=…;AccountKey=;… itself for a Flex
      // app; the host would use that before AzureWebJobsStorage__accountName and fail on the
      // keyless account (timers need host storage). A user setting of the same name wins the merge.
      const settings = app().app_settings as Record<string, string>;
      expect(settings.AzureWebJobsStorage).toBe('');
      expect(settings.AzureWebJobsStorage__accountName).toMatch(/^\$\{azurerm_storage_account\.cleanup_runtime_storage_account_[0-9A-F]{8}\.name\}$/);
    });
    it('all outbound traffic leaves through its subnet, so the NSG applies and the storage firewalls admit it by service endpoint', () => {
      // Without it only private-range traffic uses the VNet: calls to the storage accounts' public
      // endpoints would bypass the NSG and miss the subnet rule of the runtime account, which denies
      // everything else.
      expect((app().site_config as Json).vnet_route_all_enabled).toBe(true);
    });
    it('Flex Consumption, Node.js 22, identity-based storage, VNet-integrated, Application Insights', () => {
      expect(s.only('azurerm_service_plan')).toMatchObject({ sku_name: 'FC1', os_type: 'Linux' });
      expect(app()).toMatchObject({
        runtime_name: 'node',
        runtime_version: '22',
        storage_authentication_type: 'SystemAssignedIdentity',
        identity: { type: 'SystemAssigned' },
      });
      expect(String(app().virtual_network_subnet_id)).toMatch(/azurerm_subnet\.network_function_subnet_/);
      expect(String((app().site_config as Json).application_insights_connection_string)).toMatch(/azurerm_application_insights\./);
    });
    it('app settings carry the container, schedule and lifetime (and the job table when shared)', () => {
      const settings = app().app_settings as Json;
      expect(settings).toMatchObject({
        EXPORTS_CONTAINER: 'exports',
        CLEANUP_SCHEDULE: config.cleanup.schedule,
        EXPORT_MAX_TTL_MINUTES: String(config.exports.maxTtlMinutes),
      });
      expect(String(settings.EXPORTS_BLOB_SERVICE_URL)).toMatch(/primary_blob_endpoint/);
      if (config.vm.instanceCount > 1) expect(settings).toMatchObject({ JOBS_TABLE_NAME: 'exportjobs' });
      else expect(settings.JOBS_TABLE_NAME).toBeUndefined();
    });
  });

  describe('role assignments', () => {
    const assignments = Object.values(s.resources('azurerm_role_assignment'));
    it('nothing is granted Owner, Contributor or User Access Administrator', () => {
      for (const assignment of assignments) {
        if (assignment.role_definition_id !== undefined) {
          expect(assignment.role_definition_id).toMatch(/^\$\{azurerm_role_definition\.roles_cleanup_exports_role_[0-9A-F]{8}\.role_definition_resource_id\}$/);
          continue;
        }
        expect(['Owner', 'Contributor', 'User Access Administrator']).not.toContain(assignment.role_definition_name);
        expect(assignment.role_definition_name).toMatch(/^(Storage (Blob|Table) Data |Storage Blob Delegator|Key Vault Secrets User|Monitoring Metrics Publisher)/);
      }
    });
    it('the cleanup function gets a custom role with exactly the data actions it uses in the exports container, not Storage Blob Data Owner', () => {
      const cleanup = assignments.filter((a) => String(a.principal_id).includes('azurerm_function_app_flex_consumption'));
      if (!blobMethod) return expect(cleanup).toEqual([]);
      const exportsGrant = cleanup.find((a) => String(a.scope).includes('azurerm_storage_container.storage_exports'));
      expect(exportsGrant?.role_definition_name).toBeUndefined();
      const role = s.only('azurerm_role_definition');
      expect(role.permissions).toEqual([
        {
          actions: [],
          data_actions: [
            'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read',
            'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write',
            'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete',
            'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags/read',
            'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/filter/action',
          ],
        },
      ]);
      expect(role).toMatchObject({ scope: '${azurerm_resource_group.resource_group.id}', assignable_scopes: ['${azurerm_resource_group.resource_group.id}'] });
      expect(cleanup.filter((a) => a.role_definition_name === 'Storage Blob Data Owner').map((a) => String(a.scope))).toEqual([expect.stringMatching(/cleanup_runtime_storage_account/)]);
    });
    it('the connector reads only its secrets, its bundle and (blob method) the exports container', () => {
      const connector = assignments.filter((a) => String(a.principal_id).includes(config.vm.instanceCount > 1 ? 'azurerm_user_assigned_identity.connector_identity' : 'linux_virtual_machine'));
      const grants = connector.map((a) => [a.role_definition_name, String(a.scope).replace(/\$\{([a-z_]+)\.([a-z_]+?)_[0-9A-F]{8}\.(\w+)\}/g, '$1.$2.$3')]);
      const expected: [string, string][] = [
        ['Storage Blob Data Reader', 'azurerm_storage_container.artifacts.id'],
        ['Key Vault Secrets User', 'azurerm_key_vault.key_vault.id'],
      ];
      if (config.storage.method === 'blob') {
        expected.push(['Storage Blob Data Owner', 'azurerm_storage_container.storage_exports.id'], ['Storage Blob Delegator', 'azurerm_storage_account.storage_account.id']);
      }
      // The table service of the exports account: the job table and the revocation list beside it.
      if (config.vm.instanceCount > 1) expected.push(['Storage Table Data Contributor', 'azurerm_storage_account.storage_account.id/tableServices/default']);
      expect(grants.sort()).toEqual(expected.sort());
    });
  });

  it('outputs the API URL and address, storage accounts, exports container, function app and Key Vault names', () => {
    expect(Object.keys(s.json.output).sort()).toEqual(
      ['api_address', 'api_url', 'artifacts_storage_account', 'exports_container', 'function_app_name', 'key_vault_name', 'resource_group_name', 'storage_account'].sort(),
    );
    expect(String(s.json.output.api_url?.value)).toMatch(/^https:\/\//);
  });
});

/**
 * The stack's shape beyond the security rules: build artifacts with and without a build,
 * bundle-hash rollouts, scale-out behind the load balancer, the provider and backend blocks,
 * the import discipline that keeps synth fast, and the `npm run synth` entry point itself.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { configWith, merge, exampleConfig, metadataPath, synthesize, type Json } from './synth.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'infra-stack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function artifacts(connector: string, cleanup: string): { connectorZip: string; cleanupZip: string } {
  const dir = join(scratch, `dist-${connector.length}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'connector.zip'), connector);
  writeFileSync(join(dir, 'cleanup-function.zip'), cleanup);
  return { connectorZip: join(dir, 'connector.zip'), cleanupZip: join(dir, 'cleanup-function.zip') };
}

function extensionOf(resource: Json): string {
  return String(resource.protected_settings);
}

describe('build artifacts', () => {
  it('a fresh clone synthesizes without dist/: Terraform hashes the bundle at plan time', () => {
    const s = synthesize(configWith({}));
    const blob = s.only('azurerm_storage_blob');
    expect(String(blob.name)).toMatch(/^connector\/\$\{filesha256\(join\("\/", \[path\.module, ".*missing\/connector\.zip"\]\)\)\}\.zip$/);
    expect(String(functionDeploy(s).PACKAGE)).toMatch(/path\.module, ".*missing\/cleanup-function\.zip"/);
    expect(extensionOf(s.only('azurerm_virtual_machine_extension'))).toContain('BUNDLE_SHA256=", filesha256(');
  });

  it('with a build, the bundle is named by its SHA-256 and the function package is a content-addressed asset', () => {
    const files = artifacts('connector bundle v1', 'cleanup v1');
    const s = synthesize(configWith({}), files);
    const expectedSha = createHash('sha256').update('connector bundle v1').digest('hex');
    const blobName = String(s.only('azurerm_storage_blob').name);
    expect(blobName).toBe(`connector/${expectedSha}.zip`);
    expect(s.only('azurerm_storage_blob').lifecycle).toEqual({ create_before_destroy: true });
    expect(String(s.only('azurerm_storage_blob').source)).toMatch(/^assets\/.+\/connector\.zip$/);
    expect(String(functionDeploy(s).PACKAGE)).toMatch(/^assets\/.+\/cleanup-function\.zip$/);
    expect(extensionOf(s.only('azurerm_virtual_machine_extension'))).toContain(`BUNDLE_SHA256=${expectedSha}\\n`);
  });

  it('a new bundle changes the deploy extension (the rollout) and nothing that replaces the VM', () => {
    const one = synthesize(configWith({}), artifacts('connector bundle v1', 'cleanup v1'));
    const two = synthesize(configWith({}), artifacts('connector bundle v2', 'cleanup v2'));
    expect(extensionOf(two.only('azurerm_virtual_machine_extension'))).not.toBe(extensionOf(one.only('azurerm_virtual_machine_extension')));
    const vm = (s: typeof one): Json => {
      const { ['//']: _meta, ...rest } = s.only('azurerm_linux_virtual_machine');
      return rest;
    };
    expect(vm(two)).toEqual(vm(one));
    expect(functionDeploy(two).PACKAGE).not.toBe(functionDeploy(one).PACKAGE);
    expect(packageDeploy(two).triggers_replace).not.toEqual(packageDeploy(one).triggers_replace);
  });
});

function packageDeploy(s: ReturnType<typeof synthesize>): Json {
  return s.at('terraform_data', 'cleanup_package_deploy/deploy');
}

/** The local-exec environment of the cleanup package deployment. */
function functionDeploy(s: ReturnType<typeof synthesize>): Record<string, string> {
  const provisioner = (packageDeploy(s).provisioner as Json[])[0] as { 'local-exec': { environment: Record<string, string> } };
  return provisioner['local-exec'].environment;
}

type LocalExec = { command: string; interpreter?: string[]; environment: Record<string, string> };
function localExec(resource: Json): LocalExec {
  return ((resource.provisioner as Json[])[0] as { 'local-exec': LocalExec })['local-exec'];
}

/** Runs a local-exec command with `az` and `sleep` stubbed: az fails until its call count reaches okAt. */
function runStubbed(exec: LocalExec, okAt: number, env: Record<string, string>): { status: number | null; calls: string[] } {
  const bin = join(scratch, `bin-${Math.random().toString(36).slice(2)}`);
  mkdirSync(bin);
  const log = join(bin, 'calls.log');
  writeFileSync(join(bin, 'az'), `#!/bin/sh\necho "az $*" >>"${log}"\n[ "$(grep -c '^az ' "${log}")" -ge "$AZ_OK_AT" ]\n`, { mode: 0o755 });
  writeFileSync(join(bin, 'sleep'), `#!/bin/sh\necho "sleep $*" >>"${log}"\n`, { mode: 0o755 });
  writeFileSync(log, '');
  const result = spawnSync(exec.interpreter?.[0] ?? '/bin/sh', [...(exec.interpreter?.slice(1) ?? ['-c']), exec.command], {
    env: { PATH: `${bin}:/usr/bin:/bin`, AZ_OK_AT: String(okAt), ...env },
    encoding: 'utf8',
  });
  return { status: result.status, calls: readFileSync(log, 'utf8').trim().split('\n') };
}

describe('cleanup package deployment', () => {
  const files = artifacts('connector bundle v1', 'cleanup v1');
  const s = synthesize(configWith({}), files);
  const deploy = packageDeploy(s);
  const exec = localExec(deploy);

  it("does not use zip_deploy_file: the provider posts it to /api/zipdeploy with basic auth, which this app has off and Flex Consumption does not serve", () => {
    const app = s.only('azurerm_function_app_flex_consumption');
    expect(app.zip_deploy_file).toBeUndefined();
    expect(app.webdeploy_publish_basic_authentication_enabled).toBe(false);
  });

  it('deploys with the Azure CLI (OneDeploy with Entra ID), again whenever the package or the app changes', () => {
    expect(exec.command).toContain(
      'az functionapp deployment source config-zip --subscription "$SUBSCRIPTION" --resource-group "$RESOURCE_GROUP" --name "$FUNCTION_APP" --src "$PACKAGE"',
    );
    // The CLI's default subscription may be another one than Terraform's.
    expect(exec.environment.SUBSCRIPTION).toMatch(/^\$\{data\.azurerm_client_config\.client\.subscription_id\}$/);
    expect(exec.environment.FUNCTION_APP).toMatch(/^\$\{azurerm_function_app_flex_consumption\.cleanup_app_[0-9A-F]{8}\.name\}$/);
    expect(exec.environment.RESOURCE_GROUP).toMatch(/^\$\{azurerm_resource_group\./);
    expect(deploy.triggers_replace).toEqual({
      package_sha256: createHash('sha256').update('cleanup v1').digest('hex'),
      function_app_id: expect.stringMatching(/^\$\{azurerm_function_app_flex_consumption\.cleanup_app_[0-9A-F]{8}\.id\}$/),
    });
  });

  it("runs once the app's identity may write its package to the deployment container", () => {
    const runtimeGrant = Object.entries(s.resources('azurerm_role_assignment')).find(([id]) => id.startsWith('roles_cleanup_runtime_storage_'))?.[0];
    expect(runtimeGrant).toBeDefined();
    expect(deploy.depends_on).toEqual(expect.arrayContaining([`azurerm_role_assignment.${runtimeGrant}`]));
  });

  it('the command retries while a fresh role assignment is not yet in force, then gives up with a failure', () => {
    const env = { SUBSCRIPTION: 'sub-x', RESOURCE_GROUP: 'rg-x', FUNCTION_APP: 'func-x', PACKAGE: 'assets/pkg/cleanup-function.zip' };
    const retried = runStubbed(exec, 3, env);
    expect(retried.status).toBe(0);
    expect(retried.calls).toEqual([
      'az functionapp deployment source config-zip --subscription sub-x --resource-group rg-x --name func-x --src assets/pkg/cleanup-function.zip',
      'sleep 60',
      'az functionapp deployment source config-zip --subscription sub-x --resource-group rg-x --name func-x --src assets/pkg/cleanup-function.zip',
      'sleep 60',
      'az functionapp deployment source config-zip --subscription sub-x --resource-group rg-x --name func-x --src assets/pkg/cleanup-function.zip',
    ]);
    const failed = runStubbed(exec, 99, env);
    expect(failed.status).toBe(1);
    expect(failed.calls.filter((call) => call.startsWith('az '))).toHaveLength(5);
    expect(failed.calls.filter((call) => call.startsWith('sleep '))).toHaveLength(4);
  });

  it("runs after the runtime account's blob private endpoint and its DNS link exist: the platform uploads the package through it", () => {
    const address = (type: string, suffix: string): string => `${type}.${Object.entries(s.resources(type)).find(([, r]) => r === s.at(type, suffix))?.[0]}`;
    expect(deploy.depends_on).toEqual(
      expect.arrayContaining([address('azurerm_private_endpoint', 'cleanup/private_endpoint'), address('azurerm_private_dns_zone_virtual_network_link', 'cleanup/dns_link')]),
    );
  });

  it('is not there with the local method (no function app)', () => {
    const local = synthesize(configWith({ storage: { method: 'local' } }));
    expect(Object.values(local.resources('terraform_data')).map((r) => metadataPath(r).replace(/^[^/]+\//, ''))).toEqual(['deployer_access/wait']);
  });
});

describe('first apply: the bundle upload waits for the deployer role', () => {
  const s = synthesize(configWith({}));
  const wait = s.at('terraform_data', 'deployer_access/wait');
  const exec = localExec(wait);
  const grantId = Object.entries(s.resources('azurerm_role_assignment')).find(([id]) => id.startsWith('roles_deployer_artifacts_writer_'))?.[0];

  it('uploads only after the deploying principal could read the artifacts container with its new role', () => {
    expect(grantId).toBeDefined();
    expect(wait.depends_on).toEqual([`azurerm_role_assignment.${grantId}`]);
    expect(wait.triggers_replace).toEqual({ role_assignment_id: `\${azurerm_role_assignment.${grantId}.id}` });
    const waitId = Object.entries(s.resources('terraform_data')).find(([, r]) => r === wait)?.[0];
    // Before: the blob depended on the assignment alone, and the upload's 403 ended the first apply.
    expect(s.only('azurerm_storage_blob').depends_on).toEqual([`terraform_data.${waitId}`]);
    expect(exec.environment).toEqual({
      BLOB_ENDPOINT: expect.stringMatching(/^\$\{azurerm_storage_account\.artifacts_storage_account_[0-9A-F]{8}\.primary_blob_endpoint\}$/),
      CONTAINER: expect.stringMatching(/^\$\{azurerm_storage_container\.artifacts_[0-9A-F]{8}\.name\}$/),
    });
  });

  it('probes with the Azure CLI every 30 s for up to ten minutes, then fails the apply', () => {
    const env = { BLOB_ENDPOINT: 'https://stpkgx.blob.core.windows.net/', CONTAINER: 'artifacts' };
    const probe = 'az storage blob list --auth-mode login --blob-endpoint https://stpkgx.blob.core.windows.net/ --container-name artifacts --num-results 1 --output none';
    const third = runStubbed(exec, 3, env);
    expect(third.status).toBe(0);
    expect(third.calls).toEqual([probe, 'sleep 30', probe, 'sleep 30', probe]);
    const never = runStubbed(exec, 999, env);
    expect(never.status).toBe(1);
    expect(never.calls.filter((call) => call.startsWith('az '))).toHaveLength(20);
  });
});

describe('scale-out', () => {
  const s = synthesize(configWith({ vm: { instanceCount: 3 } }));

  it('runs a scale set behind a Standard Load Balancer probing liveness (/healthz) over HTTPS, not readiness', () => {
    expect(s.resources('azurerm_linux_virtual_machine')).toEqual({});
    const vmss = s.only('azurerm_linux_virtual_machine_scale_set');
    expect(vmss.instances).toBe(3);
    expect(s.only('azurerm_lb').sku).toBe('Standard');
    // /readyz fails while Hive or EnOS is down: the probe would take every instance out and
    // instance repair would recreate healthy VMs, killing their exports.
    expect(s.only('azurerm_lb_probe')).toMatchObject({ protocol: 'Https', port: 443, request_path: '/healthz' });
    expect(s.only('azurerm_lb_rule')).toMatchObject({ protocol: 'Tcp', frontend_port: 443, backend_port: 443 });
    expect(String(vmss.health_probe_id)).toMatch(/^\$\{azurerm_lb_probe\./);
  });

  it('rolls model changes out in batches gated by the probe, and repairs unhealthy instances', () => {
    const vmss = s.only('azurerm_linux_virtual_machine_scale_set');
    expect(vmss.upgrade_mode).toBe('Rolling');
    expect(vmss.rolling_upgrade_policy).toMatchObject({ max_batch_instance_percent: 50 });
    // Repair acts on the liveness probe: a dead instance is recreated, a live one waiting for Hive is not.
    expect(vmss.automatic_instance_repair).toEqual({ enabled: true, grace_period: 'PT30M' });
  });

  it("is created after, and destroyed before, the load balancer rule that uses its probe", () => {
    const vmss = s.only('azurerm_linux_virtual_machine_scale_set');
    const ruleId = Object.keys(s.resources('azurerm_lb_rule'))[0];
    // Without the edge, destroy removes the rule first and Azure answers CannotRemoveRuleUsedByProbeUsedByVMSS.
    expect(vmss.depends_on).toEqual(expect.arrayContaining([`azurerm_lb_rule.${ruleId}`]));
    expect(String(s.only('azurerm_lb_rule').probe_id)).toBe(String(vmss.health_probe_id));
  });

  it('enables automatic OS image upgrades only for an image Azure upgrades (the default Ubuntu 24.04 x64 is not one)', () => {
    expect(s.only('azurerm_linux_virtual_machine_scale_set').automatic_os_upgrade_policy).toBeUndefined();
    const jammy = synthesize(configWith({ vm: { instanceCount: 3, image: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: 'latest' } } }));
    expect(jammy.only('azurerm_linux_virtual_machine_scale_set').automatic_os_upgrade_policy).toEqual({ enable_automatic_os_upgrade: true, disable_automatic_rollback: false });
    // Listed, but pinned to a version: Azure requires "latest".
    const pinned = synthesize(configWith({ vm: { instanceCount: 3, image: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2', version: '22.04.202501010' } } }));
    expect(pinned.only('azurerm_linux_virtual_machine_scale_set').automatic_os_upgrade_policy).toBeUndefined();
    // Rolling upgrades for model changes stay either way.
    expect(s.only('azurerm_linux_virtual_machine_scale_set').upgrade_mode).toBe('Rolling');
  });

  it('a private load balancer gets a fixed frontend address when one is configured, and the API URL uses it', () => {
    const fixed = synthesize(configWith({ vm: { instanceCount: 3 }, network: { apiHostname: undefined, loadBalancerPrivateIp: '10.20.250.20' } }));
    expect((fixed.only('azurerm_lb').frontend_ip_configuration as Json[])[0]).toMatchObject({ private_ip_address_allocation: 'Static', private_ip_address: '10.20.250.20' });
    expect(fixed.json.output.api_url?.value).toBe('https://10.20.250.20');
    expect(String(((fixed.only('azurerm_linux_virtual_machine_scale_set').extension as Json[])[0] as Json).protected_settings)).toContain("PUBLIC_BASE_URL='https://10.20.250.20'");
  });

  it('uses the Table job store, whose table exists before anyone is granted access to it', () => {
    const extension = String(((s.only('azurerm_linux_virtual_machine_scale_set').extension as Json[])[0] as Json).protected_settings);
    expect(extension).toContain("JOB_STORE='table'");
    expect(extension).toContain("JOBS_TABLE_NAME='exportjobs'");
    expect(extension).not.toContain('SQLITE_FILE');
    const table = s.at('azurerm_resource_group_template_deployment', 'storage/jobs_table');
    expect(String(table.template_content)).toContain('Microsoft.Storage/storageAccounts/tableServices/tables');
    const tableGrants = Object.values(s.resources('azurerm_role_assignment')).filter((a) => a.role_definition_name === 'Storage Table Data Contributor');
    expect(tableGrants).toHaveLength(2);
    for (const grant of tableGrants) expect(grant.depends_on).toEqual([expect.stringMatching(/^azurerm_resource_group_template_deployment\.storage_jobs_table_/)]);
  });

  it('runs as a user-assigned identity whose roles exist before the scale set (its deploy extension needs them to boot)', () => {
    const vmss = s.only('azurerm_linux_virtual_machine_scale_set');
    const identityRef = /^\$\{azurerm_user_assigned_identity\.(connector_identity_[0-9A-F]{8})\.id\}$/;
    expect(vmss.identity).toEqual({ type: 'UserAssigned', identity_ids: [expect.stringMatching(identityRef)] });
    const identityId = identityRef.exec(String((vmss.identity as { identity_ids: string[] }).identity_ids[0]))?.[1];
    const connectorGrants = Object.entries(s.resources('azurerm_role_assignment')).filter(([, grant]) =>
      String(grant.principal_id).startsWith(`\${azurerm_user_assigned_identity.${identityId}.principal_id`),
    );
    expect(connectorGrants.map(([, grant]) => grant.role_definition_name).sort()).toEqual(
      ['Key Vault Secrets User', 'Storage Blob Data Owner', 'Storage Blob Data Reader', 'Storage Blob Delegator', 'Storage Table Data Contributor'].sort(),
    );
    expect(vmss.depends_on).toEqual(expect.arrayContaining(connectorGrants.map(([id]) => `azurerm_role_assignment.${id}`)));
    // The VM side and the SDK ask IMDS for this identity's tokens by its client id.
    const extension = String(((vmss.extension as Json[])[0] as Json).protected_settings);
    expect(extension).toContain(`\\nIDENTITY_CLIENT_ID=", azurerm_user_assigned_identity.${identityId}.client_id`);
    expect(extension).toContain(`\\nAZURE_CLIENT_ID='", azurerm_user_assigned_identity.${identityId}.client_id`);
  });

  it('one VM keeps the embedded SQLite job store', () => {
    const single = synthesize(configWith({}));
    const extension = extensionOf(single.only('azurerm_virtual_machine_extension'));
    expect(extension).toContain("JOB_STORE='sqlite'");
    expect(single.resources('azurerm_lb')).toEqual({});
  });
});

describe('one VM', () => {
  const s = synthesize(configWith({}));

  it("keeps its system-assigned identity and deploys only once that identity's roles exist", () => {
    expect(s.only('azurerm_linux_virtual_machine').identity).toEqual({ type: 'SystemAssigned' });
    const grants = Object.entries(s.resources('azurerm_role_assignment')).filter(([, grant]) => String(grant.principal_id).includes('azurerm_linux_virtual_machine.'));
    expect(grants.length).toBe(4);
    expect(s.only('azurerm_virtual_machine_extension').depends_on).toEqual(expect.arrayContaining(grants.map(([id]) => `azurerm_role_assignment.${id}`)));
    expect(extensionOf(s.only('azurerm_virtual_machine_extension'))).not.toContain('CLIENT_ID');
  });
});

describe('the connector deploys once what it reads at start exists', () => {
  it.each([
    ['one VM', {}, (s: ReturnType<typeof synthesize>) => s.only('azurerm_virtual_machine_extension')],
    ['a scale set', { vm: { instanceCount: 3 } }, (s: ReturnType<typeof synthesize>) => s.only('azurerm_linux_virtual_machine_scale_set')],
  ])("%s: the Key Vault secrets, the vault's private endpoint and DNS link, and the NAT gateway association", (_name, patch, deployer) => {
    const s = synthesize(configWith(patch));
    const address = (type: string, pathSuffix: string): string => {
      const id = Object.entries(s.resources(type)).find(([, resource]) => resource === s.at(type, pathSuffix))?.[0];
      return `${type}.${id}`;
    };
    // fetch-secrets reads the secrets at the first start; the bundle and Node.js come over the NAT gateway.
    expect(deployer(s).depends_on).toEqual(
      expect.arrayContaining([
        address('azurerm_resource_group_template_deployment', 'key_vault/secrets'),
        address('azurerm_private_endpoint', 'key_vault/private_endpoint'),
        address('azurerm_private_dns_zone_virtual_network_link', 'key_vault/dns_link'),
        address('azurerm_subnet_nat_gateway_association', 'network/connector_nat_association'),
      ]),
    );
  });
});

describe('providers and state', () => {
  it('configures azurerm with Azure AD for data-plane calls, pinned by the bindings', () => {
    const s = synthesize(configWith({}));
    const provider = (s.json as unknown as { provider: { azurerm: Json[] } }).provider.azurerm[0];
    expect(provider).toMatchObject({ storage_use_azuread: true });
    const required = (s.json as unknown as { terraform: { required_providers: Record<string, { version: string }> } }).terraform.required_providers;
    expect(required.azurerm?.version).toMatch(/^4\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.dependencies.cdktf).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.devDependencies['cdktf-cli']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.dependencies['@cdktf/provider-azurerm']).toMatch(/^14\.\d+\.\d+$/);
  });

  it('sets the features a destroy and a redeploy need: nested ARM items kept, the generated App Insights rule off, the own resource group deletable, soft-deleted vaults recovered', () => {
    const provider = (synthesize(configWith({})).json as unknown as { provider: { azurerm: Json[] } }).provider.azurerm[0];
    expect(provider?.features).toEqual([
      {
        // Key Vault secrets cannot be deleted through ARM: destroying the secrets deployment failed.
        template_deployment: [{ delete_nested_items_during_deletion: false }],
        // The Failure Anomalies rule Azure adds is not in state and blocked the resource group's deletion.
        application_insights: [{ disable_generated_rule: true }],
        resource_group: [{ prevent_deletion_if_contains_resources: false }],
        key_vault: [{ recover_soft_deleted_key_vaults: true, purge_soft_delete_on_destroy: false }],
      },
    ]);
  });

  it('registers Microsoft.App (Flex Consumption VNet integration), which no provider registration set contains', () => {
    const providerOf = (patch: unknown) => (synthesize(configWith(patch)).json as unknown as { provider: { azurerm: Json[] } }).provider.azurerm[0];
    expect(providerOf({})).toMatchObject({ resource_provider_registrations: 'core', resource_providers_to_register: expect.arrayContaining(['Microsoft.App', 'Microsoft.Web', 'Microsoft.KeyVault']) });
    // No function app, no Microsoft.App.
    expect(providerOf({ storage: { method: 'local' } })?.resource_providers_to_register).not.toContain('Microsoft.App');
  });

  it('uses the remote azurerm backend with Azure AD auth when configured', () => {
    const backend = { type: 'azurerm', resourceGroupName: 'rg-tfstate', storageAccountName: 'sttfstate', containerName: 'tfstate', key: 'enos.tfstate' };
    const s = synthesize(configWith({ backend }));
    expect((s.json as unknown as { terraform: { backend: Json } }).terraform.backend).toEqual({
      azurerm: { resource_group_name: 'rg-tfstate', storage_account_name: 'sttfstate', container_name: 'tfstate', key: 'enos.tfstate', use_azuread_auth: true },
    });
  });
});

describe('import discipline', () => {
  const sources = (dir: string): string[] =>
    readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => join(entry.parentPath, entry.name));

  it('infra uses deep provider imports, never the barrel (~6 s of load per synth)', () => {
    for (const file of [...sources('infra'), ...sources('test/infra')]) {
      const text = readFileSync(file, 'utf8');
      expect(text, relative(REPO, file)).not.toMatch(/from '@cdktf\/provider-(azurerm|random)'/);
    }
  });

  it('no cdktf, constructs or @cdktf import outside infra/ and test/infra/', () => {
    for (const dir of ['app', 'cleanup-function', 'scripts']) {
      for (const file of sources(dir)) {
        expect(readFileSync(file, 'utf8'), relative(REPO, file)).not.toMatch(/from '(cdktf|constructs|@cdktf\/[^']+)'/);
      }
    }
  });
});

describe('npm run synth entry point', () => {
  function synthCli(args: string[], outdir: string): { status: number | null; stderr: string } {
    // tsx resolved from here: the child runs in a scratch directory, as a platform engineer would.
    const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO, 'infra/main.ts'), ...args], {
      cwd: scratch,
      env: { ...process.env, CDKTF_OUTDIR: outdir, DEPLOY_CONFIG: '' },
      encoding: 'utf8',
    });
    return { status: result.status, stderr: result.stderr };
  }

  it('writes plain Terraform JSON for the example config, offline', () => {
    const outdir = join(scratch, 'cdktf.out');
    const result = synthCli([], outdir);
    expect(result.stderr).toMatch(/synth: .*deploy\.config\.example\.json \(from the committed example/);
    expect(result.status).toBe(0);
    const json = JSON.parse(readFileSync(join(outdir, 'stacks/enosaml-prod/cdk.tf.json'), 'utf8')) as { resource: Record<string, unknown> };
    expect(Object.keys(json.resource)).toContain('azurerm_linux_virtual_machine');
  });

  it('exits 2 with the problems of a bad config', () => {
    const file = join(scratch, 'bad.json');
    writeFileSync(file, JSON.stringify(merge(exampleConfig(), { network: { mode: 'vnet' } })));
    const result = synthCli(['--config', file], join(scratch, 'bad.out'));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`Invalid deploy config ${file}:\n  - network.mode: got "vnet"; expected one of "subnet", "peered-vnet"`);
  });
});

describe('Terraform dependency graph', () => {
  /** Every resource's address → the addresses its arguments reference or it depends on. */
  function edges(s: ReturnType<typeof synthesize>): Map<string, Set<string>> {
    const graph = new Map<string, Set<string>>();
    const blocks: [string, Record<string, Record<string, Json>>][] = [
      ['', s.json.resource],
      ['data.', s.json.data],
    ];
    for (const [prefix, byType] of blocks) {
      for (const [type, byName] of Object.entries(byType)) {
        for (const name of Object.keys(byName)) graph.set(`${prefix}${type}.${name}`, new Set());
      }
    }
    const reference = /\b(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)\b/g;
    for (const [prefix, byType] of blocks) {
      for (const [type, byName] of Object.entries(byType)) {
        for (const [name, body] of Object.entries(byName)) {
          const { ['//']: _meta, ...rest } = body;
          const from = `${prefix}${type}.${name}`;
          for (const match of JSON.stringify(rest).matchAll(reference)) {
            const to = `${match[1] ?? ''}${match[2]}.${match[3]}`;
            if (to !== from && graph.has(to)) graph.get(from)?.add(to);
          }
        }
      }
    }
    return graph;
  }

  function cycle(graph: Map<string, Set<string>>): string[] | undefined {
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (node: string): string[] | undefined => {
      if (state.get(node) === 'done') return undefined;
      if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
      state.set(node, 'open');
      path.push(node);
      for (const next of graph.get(node) ?? []) {
        const found = visit(next);
        if (found) return found;
      }
      path.pop();
      state.set(node, 'done');
      return undefined;
    };
    for (const node of graph.keys()) {
      const found = visit(node);
      if (found) return found;
    }
    return undefined;
  }

  it.each([
    ['one VM', {}],
    ['a scale set', { vm: { instanceCount: 3 } }],
    ['local storage', { storage: { method: 'local' } }],
  ])('%s: no cycle (terraform plan would refuse one; no terraform binary runs here)', (_name, patch) => {
    const graph = edges(synthesize(configWith(patch)));
    expect(graph.size).toBeGreaterThan(30);
    expect(cycle(graph)).toBeUndefined();
  });

  it('sees the edges that matter: the scale set waits for role assignments that name its identity', () => {
    const graph = edges(synthesize(configWith({ vm: { instanceCount: 3 } })));
    const vmss = [...graph.keys()].find((node) => node.startsWith('azurerm_linux_virtual_machine_scale_set.'));
    const grants = [...(graph.get(vmss ?? '') ?? [])].filter((node) => node.startsWith('azurerm_role_assignment.'));
    expect(grants.length).toBe(5);
    for (const grant of grants) expect([...(graph.get(grant) ?? [])].some((node) => node.startsWith('azurerm_user_assigned_identity.'))).toBe(true);
  });

  it('the checker finds a cycle when there is one', () => {
    expect(cycle(new Map([['a.x', new Set(['b.y'])], ['b.y', new Set(['a.x'])]]))).toEqual(['a.x', 'b.y', 'a.x']);
  });
});

describe('TLS from a Key Vault certificate', () => {
  it('reads the certificate the platform team keeps in the vault instead of writing a PEM secret; no PEM variable', () => {
    const s = synthesize(configWith({ tls: { keyVaultCertificate: 'connector-api' } }));
    expect(Object.keys(s.json.variable ?? {})).not.toContain('tls_certificate_pem');
    const template = String(s.at('azurerm_resource_group_template_deployment', 'key_vault/secrets').template_content);
    expect(template).not.toContain('connector-tls');
    const extension = String(s.only('azurerm_virtual_machine_extension').protected_settings);
    expect(extension).toContain('\\nTLS_SECRET_NAME=connector-api\\n');
    // The PEM route, for comparison.
    const pem = synthesize(configWith({}));
    expect(Object.keys(pem.json.variable ?? {})).toContain('tls_certificate_pem');
    expect(String(pem.only('azurerm_virtual_machine_extension').protected_settings)).toContain('\\nTLS_SECRET_NAME=connector-tls\\n');
  });
});

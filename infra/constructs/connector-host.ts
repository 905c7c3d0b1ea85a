import { Construct } from 'constructs';
import { Fn, type TerraformResource } from 'cdktf';
import { Lb } from '@cdktf/provider-azurerm/lib/lb/index.js';
import { LbBackendAddressPool } from '@cdktf/provider-azurerm/lib/lb-backend-address-pool/index.js';
import { LbProbe } from '@cdktf/provider-azurerm/lib/lb-probe/index.js';
import { LbRule } from '@cdktf/provider-azurerm/lib/lb-rule/index.js';
import { LinuxVirtualMachine } from '@cdktf/provider-azurerm/lib/linux-virtual-machine/index.js';
import { LinuxVirtualMachineScaleSet } from '@cdktf/provider-azurerm/lib/linux-virtual-machine-scale-set/index.js';
import { NetworkInterface } from '@cdktf/provider-azurerm/lib/network-interface/index.js';
import { PublicIp } from '@cdktf/provider-azurerm/lib/public-ip/index.js';
import { UserAssignedIdentity } from '@cdktf/provider-azurerm/lib/user-assigned-identity/index.js';
import { VirtualMachineExtension } from '@cdktf/provider-azurerm/lib/virtual-machine-extension/index.js';
import { terraformText } from '../terraform-text.js';

export interface ConnectorHostProps {
  names: { connector: string; publicIp: string; loadBalancer: string };
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  subnetId: string;
  size: string;
  image: { publisher: string; offer: string; sku: string; version: string };
  adminUsername: string;
  sshPublicKeys: string[];
  osDiskSizeGb: number;
  /** A public IP with this DNS label (on the VM, or on the load balancer). @default - none: reached through the VNet */
  publicIp?: { dnsLabel?: string };
  /** cloud-init, base64. Static per Node.js version and TLS mode; carries no secret. */
  customData: string;
  /** The CustomScript extension's script text (may hold Terraform expressions); carries no secret. */
  extensionScript: string;
}

/** What the rest of the stack needs from either host shape. */
export interface ConnectorHostOutputs {
  /** The identity every instance runs as (what its role assignments name). */
  readonly principalId: string;
  /** DNS name (public IP) or private address the API answers on. */
  readonly address: string;
  /**
   * Holds back the connector's deployment until `prerequisites` exist: the identity's role
   * assignments (it downloads the bundle and reads Key Vault with them), and whatever else the
   * first start needs.
   */
  deployAfter(prerequisites: TerraformResource[]): void;
}

/** depends_on after construction: the grants need the host's identity, so they come later. */
function addDependencies(resource: TerraformResource, dependencies: TerraformResource[]): void {
  const addresses = dependencies.map((dependency) => `${dependency.terraformResourceType}.${dependency.friendlyUniqueId}`);
  resource.dependsOn = [...(resource.dependsOn ?? []), ...addresses];
}

const CUSTOM_SCRIPT = { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript', typeHandlerVersion: '2.1' } as const;

/** The script travels gzipped in protected settings: encrypted at rest, not shown in the portal. */
function extensionSettings(script: string): string {
  return Fn.jsonencode({ script: Fn.base64gzip(terraformText(script)) });
}

function adminKeys(props: ConnectorHostProps): { username: string; publicKey: string }[] {
  return props.sshPublicKeys.map((publicKey) => ({ username: props.adminUsername, publicKey }));
}

function publicIp(scope: Construct, props: ConnectorHostProps): PublicIp | undefined {
  if (props.publicIp === undefined) return undefined;
  return new PublicIp(scope, 'public_ip', {
    name: props.names.publicIp,
    resourceGroupName: props.resourceGroupName,
    location: props.location,
    tags: props.tags,
    allocationMethod: 'Static',
    sku: 'Standard',
    domainNameLabel: props.publicIp.dnsLabel,
  });
}

/**
 * What a single VM and a scale set share: Ubuntu image, SSH keys only, a managed identity
 * (system-assigned; the scale set replaces it, see ConnectorIdentity), encryption at host,
 * Trusted Launch (secure boot + vTPM), managed boot diagnostics.
 */
function hardenedHost(props: ConnectorHostProps) {
  return {
    sourceImageReference: props.image,
    osDisk: { caching: 'ReadWrite', storageAccountType: 'Premium_LRS', diskSizeGb: props.osDiskSizeGb },
    adminUsername: props.adminUsername,
    adminSshKey: adminKeys(props),
    disablePasswordAuthentication: true,
    identity: { type: 'SystemAssigned' },
    encryptionAtHostEnabled: true,
    secureBootEnabled: true,
    vtpmEnabled: true,
    // Managed boot diagnostics storage: no account to secure.
    bootDiagnostics: {},
    provisionVmAgent: true,
  };
}

/**
 * One connector VM: Ubuntu LTS, SSH keys only, system-assigned identity, encryption at host,
 * Trusted Launch, boot diagnostics, platform-orchestrated OS patching; cloud-init prepares it once
 * and the CustomScript extension (re)deploys the connector whenever its script changes.
 */
export class ConnectorVm extends Construct implements ConnectorHostOutputs {
  readonly vm: LinuxVirtualMachine;
  readonly extension: VirtualMachineExtension;
  readonly principalId: string;
  readonly address: string;

  constructor(scope: Construct, id: string, props: ConnectorHostProps) {
    super(scope, id);
    const { resourceGroupName, location, tags } = props;
    const ip = publicIp(this, props);
    const nic = new NetworkInterface(this, 'nic', {
      name: `${props.names.connector}-nic`,
      resourceGroupName,
      location,
      tags,
      ipConfiguration: [
        { name: 'primary', subnetId: props.subnetId, privateIpAddressAllocation: 'Dynamic', publicIpAddressId: ip?.id },
      ],
    });
    this.vm = new LinuxVirtualMachine(this, 'vm', {
      name: props.names.connector,
      resourceGroupName,
      location,
      tags,
      size: props.size,
      networkInterfaceIds: [nic.id],
      ...hardenedHost(props),
      allowExtensionOperations: true,
      patchMode: 'AutomaticByPlatform',
      patchAssessmentMode: 'AutomaticByPlatform',
      rebootSetting: 'IfRequired',
      customData: props.customData,
      // Custom data is read on first boot only and replacing it would replace the VM (and the
      // local exports on its disk); every later change arrives through the extension.
      lifecycle: { ignoreChanges: ['custom_data'] },
    });
    this.extension = new VirtualMachineExtension(this, 'deploy', {
      name: 'enos-connector-deploy',
      virtualMachineId: this.vm.id,
      ...CUSTOM_SCRIPT,
      autoUpgradeMinorVersion: true,
      protectedSettings: extensionSettings(props.extensionScript),
      tags,
    });
    this.principalId = this.vm.identity.principalId;
    this.address = ip ? ip.fqdn : nic.privateIpAddress;
  }

  /** The VM's identity exists only with the VM, so its grants come after it, and the extension after them. */
  deployAfter(prerequisites: TerraformResource[]): void {
    addDependencies(this.extension, prerequisites);
  }
}

export interface ConnectorScaleSetProps extends ConnectorHostProps {
  instanceCount: number;
  /** The user-assigned identity every instance runs as (ConnectorIdentity). */
  identity: { id: string; principalId: string };
  /** A fixed frontend address when the load balancer is private. @default - dynamic */
  loadBalancerPrivateIp?: string;
}

/**
 * The Linux platform images Azure upgrades automatically in a scale set, as listed under
 * "Supported OS images" in virtual-machine-scale-sets-automatic-upgrade.md (MicrosoftDocs
 * azure-compute-docs). Enabling automatic OS image upgrade on any other image is answered with
 * HTTP 400, and the list does not have the x64 Ubuntu 24.04 image (only `server-arm64`).
 */
export const AUTOMATIC_OS_UPGRADE_IMAGES: readonly { publisher: string; offer: string; sku: string }[] = [
  { publisher: 'Canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-LTS' },
  { publisher: 'Canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-LTS-Gen2' },
  { publisher: 'Canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-LTS-arm64' },
  { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server-arm64' },
  { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-LTS' },
  { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-LTS-arm64' },
  { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-LTS-Gen2' },
  { publisher: 'Canonical', offer: '0001-com-ubuntu-pro-microsoft', sku: 'pro-fips-20_04-Gen2' },
  { publisher: 'MicrosoftCblMariner', offer: 'Cbl-Mariner', sku: 'cbl-mariner-2' },
  { publisher: 'MicrosoftCblMariner', offer: 'Cbl-Mariner', sku: 'cbl-mariner-2-arm64' },
  { publisher: 'MicrosoftCblMariner', offer: 'Cbl-Mariner', sku: 'cbl-mariner-2-Gen2' },
  { publisher: 'MicrosoftCblMariner', offer: 'Cbl-Mariner', sku: 'cbl-mariner-2-fips' },
  { publisher: 'MicrosoftCblMariner', offer: 'Cbl-Mariner', sku: 'cbl-mariner-2-Gen2-fips' },
  { publisher: 'MicrosoftCblMariner', offer: 'Azure-Linux', sku: 'azure-linux-Gen2' },
  { publisher: 'MicrosoftCblMariner', offer: 'Azure-Linux', sku: 'azure-linux-3' },
  { publisher: 'MicrosoftCblMariner', offer: 'Azure-Linux', sku: 'azure-linux-arm64' },
];

/**
 * Whether Azure upgrades this image automatically: a listed platform image at version `latest`
 * (a requirement of the same page). Image names compare without case, as Azure compares them.
 */
export function supportsAutomaticOsUpgrade(image: { publisher: string; offer: string; sku: string; version: string }): boolean {
  const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  return (
    same(image.version, 'latest') &&
    AUTOMATIC_OS_UPGRADE_IMAGES.some((listed) => same(listed.publisher, image.publisher) && same(listed.offer, image.offer) && same(listed.sku, image.sku))
  );
}

/**
 * The scale set's identity, made before the scale set: its instances run the deploy extension
 * while the scale set is being created, and Azure only finishes creating it once they succeed, so
 * the roles the extension needs must already be granted. A system-assigned identity only exists
 * once the scale set does. Tokens are asked for by `clientId` (IDENTITY_CLIENT_ID for the
 * bootstrap, AZURE_CLIENT_ID for the SDK's DefaultAzureCredential).
 */
export class ConnectorIdentity extends Construct {
  readonly identity: UserAssignedIdentity;
  readonly id: string;
  readonly principalId: string;
  readonly clientId: string;

  constructor(scope: Construct, id: string, props: { name: string; resourceGroupName: string; location: string; tags: Record<string, string> }) {
    super(scope, id);
    this.identity = new UserAssignedIdentity(this, 'identity', props);
    this.id = this.identity.id;
    this.principalId = this.identity.principalId;
    this.clientId = this.identity.clientId;
  }
}

/**
 * Several connector instances: a VM scale set behind a Standard Load Balancer that probes the
 * connector's liveness (`/healthz`) over HTTPS. Liveness, not readiness (`/readyz`, which checks
 * Hive, EnOS and storage): an outage of one of those would otherwise take every instance out of
 * the pool and, through automatic instance repair, recreate healthy VMs and kill their running
 * exports. Model changes (a new bundle hash in the extension) roll out in batches gated by the
 * probe; unhealthy (dead) instances are repaired; OS images are upgraded automatically only for
 * the images Azure supports (supportsAutomaticOsUpgrade); otherwise Ubuntu's unattended-upgrades
 * patches each instance.
 */
export class ConnectorScaleSet extends Construct implements ConnectorHostOutputs {
  readonly scaleSet: LinuxVirtualMachineScaleSet;
  readonly loadBalancer: Lb;
  readonly probe: LbProbe;
  readonly principalId: string;
  readonly address: string;
  readonly automaticOsUpgrade: boolean;

  constructor(scope: Construct, id: string, props: ConnectorScaleSetProps) {
    super(scope, id);
    const { resourceGroupName, location, tags } = props;
    const ip = publicIp(this, props);
    const frontendName = 'api';
    this.loadBalancer = new Lb(this, 'lb', {
      name: props.names.loadBalancer,
      resourceGroupName,
      location,
      tags,
      sku: 'Standard',
      frontendIpConfiguration: [
        ip
          ? { name: frontendName, publicIpAddressId: ip.id }
          : props.loadBalancerPrivateIp !== undefined
            ? { name: frontendName, subnetId: props.subnetId, privateIpAddressAllocation: 'Static', privateIpAddress: props.loadBalancerPrivateIp }
            : { name: frontendName, subnetId: props.subnetId, privateIpAddressAllocation: 'Dynamic' },
      ],
    });
    const pool = new LbBackendAddressPool(this, 'pool', { name: 'connectors', loadbalancerId: this.loadBalancer.id });
    this.probe = new LbProbe(this, 'healthz', {
      name: 'healthz',
      loadbalancerId: this.loadBalancer.id,
      protocol: 'Https',
      port: 443,
      requestPath: '/healthz',
      intervalInSeconds: 15,
      numberOfProbes: 2,
    });
    const rule = new LbRule(this, 'https', {
      name: 'https',
      loadbalancerId: this.loadBalancer.id,
      frontendIpConfigurationName: frontendName,
      protocol: 'Tcp',
      frontendPort: 443,
      backendPort: 443,
      backendAddressPoolIds: [pool.id],
      probeId: this.probe.id,
      // Egress goes through the subnet's NAT gateway, not the frontend.
      disableOutboundSnat: true,
      tcpResetEnabled: true,
    });
    this.scaleSet = new LinuxVirtualMachineScaleSet(this, 'vmss', {
      name: props.names.connector,
      resourceGroupName,
      location,
      tags,
      sku: props.size,
      instances: props.instanceCount,
      ...hardenedHost(props),
      identity: { type: 'UserAssigned', identityIds: [props.identity.id] },
      extensionOperationsEnabled: true,
      overprovision: false,
      customData: props.customData,
      healthProbeId: this.probe.id,
      upgradeMode: 'Rolling',
      rollingUpgradePolicy: {
        maxBatchInstancePercent: 50,
        maxUnhealthyInstancePercent: 50,
        maxUnhealthyUpgradedInstancePercent: 50,
        pauseTimeBetweenBatches: 'PT1M',
      },
      ...(supportsAutomaticOsUpgrade(props.image) ? { automaticOsUpgradePolicy: { enableAutomaticOsUpgrade: true, disableAutomaticRollback: false } } : {}),
      automaticInstanceRepair: { enabled: true, gracePeriod: 'PT30M' },
      networkInterface: [
        {
          name: 'primary',
          primary: true,
          ipConfiguration: [{ name: 'primary', primary: true, subnetId: props.subnetId, loadBalancerBackendAddressPoolIds: [pool.id] }],
        },
      ],
      extension: [
        {
          name: 'enos-connector-deploy',
          ...CUSTOM_SCRIPT,
          autoUpgradeMinorVersion: true,
          protectedSettings: extensionSettings(props.extensionScript),
        },
      ],
      // The probe takes effect through the rule that uses it: a scale set created before the rule
      // may be refused the probe, and one destroyed after it fails
      // (CannotRemoveRuleUsedByProbeUsedByVMSS), so the scale set comes after the rule and goes first.
      dependsOn: [rule],
    });
    this.principalId = props.identity.principalId;
    this.address = ip ? ip.fqdn : (props.loadBalancerPrivateIp ?? this.loadBalancer.privateIpAddress);
    this.automaticOsUpgrade = supportsAutomaticOsUpgrade(props.image);
  }

  /** Instances deploy while the scale set is created, so the whole scale set waits. */
  deployAfter(prerequisites: TerraformResource[]): void {
    addDependencies(this.scaleSet, prerequisites);
  }
}

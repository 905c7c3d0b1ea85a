import type { Construct } from 'constructs';
import { PrivateDnsZone } from '@cdktf/provider-azurerm/lib/private-dns-zone/index.js';
import { PrivateDnsZoneVirtualNetworkLink } from '@cdktf/provider-azurerm/lib/private-dns-zone-virtual-network-link/index.js';
import { PrivateEndpoint } from '@cdktf/provider-azurerm/lib/private-endpoint/index.js';

export interface PrivateLinkProps {
  /** Endpoint and link names start with it (the target's name). */
  name: string;
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  /** `privatelink.vaultcore.azure.net`, `privatelink.blob.core.windows.net`, … */
  zoneName: string;
  /** The resource reached privately, and which of its endpoints (`vault`, `blob`). */
  targetId: string;
  subresource: string;
  subnetId: string;
  /** The VNet whose DNS resolves the target to the endpoint. */
  vnetId: string;
}

export interface PrivateLink {
  zone: PrivateDnsZone;
  dnsLink: PrivateDnsZoneVirtualNetworkLink;
  endpoint: PrivateEndpoint;
}

/**
 * A private endpoint with its private DNS zone, linked to the VNet. Created in `scope` with the
 * ids `dns_zone`, `dns_link` and `private_endpoint`, so the Terraform addresses stay where a
 * construct of its own had them.
 *
 * The link resolves with `NxDomainRedirect`: a name the zone holds no record for (every other
 * account or vault of that service) still resolves publicly from the linked VNet, so the zone
 * reroutes only the target.
 */
export function addPrivateLink(scope: Construct, props: PrivateLinkProps): PrivateLink {
  const { resourceGroupName, location, tags } = props;
  const zone = new PrivateDnsZone(scope, 'dns_zone', { name: props.zoneName, resourceGroupName, tags });
  const dnsLink = new PrivateDnsZoneVirtualNetworkLink(scope, 'dns_link', {
    name: `${props.name}-link`,
    resourceGroupName,
    privateDnsZoneName: zone.name,
    virtualNetworkId: props.vnetId,
    registrationEnabled: false,
    resolutionPolicy: 'NxDomainRedirect',
    tags,
  });
  const endpoint = new PrivateEndpoint(scope, 'private_endpoint', {
    name: `pe-${props.name}${props.subresource === 'vault' ? '' : `-${props.subresource}`}`,
    resourceGroupName,
    location,
    tags,
    subnetId: props.subnetId,
    privateServiceConnection: {
      name: `${props.name}-${props.subresource}`,
      privateConnectionResourceId: props.targetId,
      subresourceNames: [props.subresource],
      isManualConnection: false,
    },
    privateDnsZoneGroup: { name: props.subresource, privateDnsZoneIds: [zone.id] },
  });
  return { zone, dnsLink, endpoint };
}

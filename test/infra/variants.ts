/**
 * The configurations the README offers, as patches on the committed example: each one is
 * synthesized by the variant tests and checked against the provider schema. A new shape of the
 * stack (a mode, a method, a host form) gets its entry here.
 */
import { kerberosPatch } from './hive-fixtures.js';
import { merge } from './synth.js';

export const VARIANTS: Record<string, unknown> = {
  'one VM (the committed example: subnet mode, blob storage, Key Vault TLS)': {},
  'scale-out (three instances behind a private load balancer, Table job store)': {
    vm: { instanceCount: 3 },
  },
  'local storage (exports on the VM disk, no cleanup function)': {
    storage: { method: 'local' },
  },
  'peered VNet with Internet egress off': {
    network: {
      mode: 'peered-vnet',
      vnetAddressSpace: '10.60.0.0/24',
      connectorSubnet: '10.60.0.0/27',
      functionSubnet: '10.60.0.32/27',
      allowInternetEgress: false,
    },
  },
  'scale-out on a fixed private address, deployers inside a VNet, a given route table, a Key Vault certificate': {
    vm: { instanceCount: 2 },
    network: {
      apiHostname: undefined,
      loadBalancerPrivateIp: '10.20.250.10',
      deployerCidrs: [],
      deployerSubnetIds: ['/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-build/providers/Microsoft.Network/virtualNetworks/vnet-build/subnets/agents'],
      routeTable: { id: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub/providers/Microsoft.Network/routeTables/rt-firewall' },
    },
    storage: { downloadAccess: 'cidrs', downloadCidrs: ['198.51.100.0/24'] },
    tls: { keyVaultCertificate: 'connector-api' },
  },
  'public IP with an ACME certificate': {
    network: { apiAllowedCidrs: ['0.0.0.0/0'], publicIp: { enabled: true, dnsLabel: 'enos-export' } },
    tls: { mode: 'acme', acmeEmail: 'ops@example.com' },
  },
  'Hive over TLS with Kerberos, Internet egress off (kinit from the image)': merge(kerberosPatch({ kinit: 'image' }), { network: { allowInternetEgress: false } }),
};

/**
 * The configurations the README offers, as patches on the committed example: each one is
 * synthesized by the variant tests and checked against the provider schema. A new shape of the
 * stack (a mode, a method, a host form) gets its entry here.
 */
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
  'public IP with an ACME certificate': {
    network: { apiAllowedCidrs: ['0.0.0.0/0'], publicIp: { enabled: true, dnsLabel: 'enos-export' } },
    tls: { mode: 'acme', acmeEmail: 'ops@example.com' },
  },
};

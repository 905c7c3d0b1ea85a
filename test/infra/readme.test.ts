/**
 * infra/README.md is what the platform team prepares a subscription from: the permissions it lists
 * must cover what the synthesized stack does (derived here from the Terraform JSON, so a new kind
 * of resource that needs a permission fails until the README says so), and it carries the
 * checklist of what only a real subscription can prove.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configWith, synthesize, type Synthesized } from './synth.js';
import { VARIANTS } from './variants.js';

const README = readFileSync(fileURLToPath(new URL('../../infra/README.md', import.meta.url)), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`## ${title}`);
  if (start === -1) throw new Error(`infra/README.md has no "## ${title}" section`);
  const next = README.indexOf('\n## ', start + 3);
  return README.slice(start, next === -1 ? undefined : next);
}

/** The Azure permissions the stack's resources need beyond creating them, and why. */
function requiredPermissions(s: Synthesized): Map<string, string> {
  const needed = new Map<string, string>();
  const has = (type: string) => Object.keys(s.resources(type)).length > 0;
  const json = JSON.stringify(s.json.resource);
  if (has('azurerm_role_assignment')) needed.set('Microsoft.Authorization/roleAssignments/write', 'role assignments');
  if (has('azurerm_role_definition')) needed.set('Microsoft.Authorization/roleDefinitions/write', 'the custom cleanup role');
  const provider = (s.json as unknown as { provider: { azurerm: { resource_providers_to_register?: string[] }[] } }).provider.azurerm[0];
  if ((provider?.resource_providers_to_register ?? []).length > 0) needed.set('*/register/action', 'resource provider registration');
  if (s.config.network.mode === 'subnet') {
    needed.set('Microsoft.Network/virtualNetworks/subnets/write', 'subnets in the Hadoop VNet');
    needed.set('Microsoft.Network/virtualNetworks/subnets/read', 'the Hadoop subnets read');
  }
  // NICs, load balancer frontends, private endpoints and VNet integration join a subnet.
  if (/"subnet_id":"\$\{azurerm_subnet\./.test(json) || /"virtual_network_subnet_id":"\$\{azurerm_subnet\./.test(json)) {
    needed.set('Microsoft.Network/virtualNetworks/subnets/join/action', 'resources in the subnets');
  }
  if (/"virtual_network_subnet_ids":\[/.test(json)) needed.set('Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action', 'storage firewall subnet rules');
  if (has('azurerm_private_dns_zone_virtual_network_link')) needed.set('Microsoft.Network/virtualNetworks/join/action', 'private DNS zones linked to the VNet');
  if (has('azurerm_subnet_route_table_association')) needed.set('Microsoft.Network/routeTables/join/action', 'route table association');
  if (has('azurerm_virtual_network_peering')) {
    needed.set('Microsoft.Network/virtualNetworks/peer/action', 'peering');
    needed.set('virtualNetworkPeerings/write', 'peering from the Hadoop VNet');
  }
  return needed;
}

describe('infra/README.md', () => {
  const prerequisites = section('Prerequisites');

  it.each(Object.entries(VARIANTS))('lists every permission the stack needs beyond creating resources: %s', (_name, patch) => {
    const missing = [...requiredPermissions(synthesize(configWith(patch)))].filter(([permission]) => !prerequisites.includes(permission));
    expect(missing, `permissions missing from the Prerequisites section: ${missing.map(([p, why]) => `${p} (${why})`).join(', ')}`).toEqual([]);
  });

  it('says the Azure CLI must be signed in as the principal Terraform deploys as', () => {
    expect(prerequisites).toMatch(/signed in as the same principal\s+Terraform deploys as/);
  });

  it('carries the checklist of what needs a real subscription: plan, apply, smoke test, destroy', () => {
    const checklist = section('Needs a real subscription: the checklist');
    for (const phase of ['**Plan**', '**Apply**', '**Smoke test**', '**Destroy**']) expect(checklist).toContain(phase);
    expect(checklist.match(/^- \[ \] /gm)?.length).toBeGreaterThanOrEqual(15);
  });

  it('no longer claims a destroyed vault name cannot be reused (the provider recovers soft-deleted vaults)', () => {
    expect(README).not.toMatch(/cannot be reused/);
    expect(section('Synthesize, deploy, destroy')).toContain('recovers it');
  });
});

/**
 * Every configuration the README offers synthesizes, and everything it synthesizes is what the
 * pinned azurerm provider (4.55, @cdktf/provider-azurerm 14.23.1) accepts: each resource type,
 * data source and argument path is checked against the provider schema carried in the package's
 * .jsii assembly. A misspelled override or an argument a provider upgrade removed fails here,
 * offline, instead of at `terraform plan`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { configWith, synthesize } from './synth.js';
import { loadProviderSchema, schemaProblems, type ProviderSchema } from './provider-schema.js';
import { VARIANTS } from './variants.js';

let schemas: ProviderSchema[];
beforeAll(() => {
  schemas = [loadProviderSchema('@cdktf/provider-azurerm'), loadProviderSchema('@cdktf/provider-random')];
});

describe('provider schema from the pinned packages', () => {
  it('is azurerm 4.55.0, and knows the resources this stack uses', () => {
    const [azurerm] = schemas;
    expect(azurerm?.version).toBe('4.55.0');
    const rule = azurerm?.blocks.get('azurerm_lb_rule');
    expect(rule?.arguments.get('probe_id')).toEqual({ required: false, block: undefined });
    expect(rule?.arguments.get('loadbalancer_id')?.required).toBe(true);
    const vmss = azurerm?.blocks.get('azurerm_linux_virtual_machine_scale_set');
    expect(vmss?.arguments.get('automatic_os_upgrade_policy')?.block?.arguments.has('enable_automatic_os_upgrade')).toBe(true);
    expect(azurerm?.blocks.get('provider.azurerm')?.arguments.get('features')?.block?.arguments.has('template_deployment')).toBe(true);
    expect(azurerm?.blocks.has('data.azurerm_virtual_network')).toBe(true);
  });

  it('reports an unknown argument, a misspelled nested one and a missing required one', () => {
    const problems = schemaProblems(
      {
        resource: {
          azurerm_lb_rule: { r: { name: 'https', loadbalancer_id: 'x', frontend_ip_configuration_name: 'api', protocol: 'Tcp', frontend_port: 443, backend_port: 443, probe_idd: 'p' } },
          azurerm_linux_virtual_machine_scale_set: {
            s: { automatic_os_upgrade_policy: { enable_automatic_os_upgrade: true, disable_automatic_rolback: false } },
          },
          azurerm_no_such_thing: { n: {} },
        },
      },
      schemas,
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^azurerm_lb_rule\.r\.probe_idd: no such argument/),
        expect.stringMatching(/^azurerm_linux_virtual_machine_scale_set\.s\.automatic_os_upgrade_policy\.disable_automatic_rolback: no such argument/),
        'azurerm_linux_virtual_machine_scale_set.s: required argument admin_username is missing',
        'azurerm_no_such_thing.n: azurerm_no_such_thing is not a resource type of the pinned providers',
      ]),
    );
  });
});

describe.each(Object.entries(VARIANTS))('%s', (_name, patch) => {
  const s = synthesize(configWith(patch));

  it('synthesizes a stack with the connector, its vault and its storage', () => {
    const hosts = Object.keys(s.resources('azurerm_linux_virtual_machine')).length + Object.keys(s.resources('azurerm_linux_virtual_machine_scale_set')).length;
    expect(hosts).toBe(1);
    expect(s.only('azurerm_key_vault')).toBeDefined();
    expect(Object.keys(s.resources('azurerm_storage_account')).length).toBeGreaterThanOrEqual(1);
  });

  it('uses only resource types, data sources and arguments the pinned providers have, and every required one', () => {
    expect(schemaProblems(s.json, schemas)).toEqual([]);
  });
});

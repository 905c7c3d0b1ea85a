/**
 * Resource names, derived from the config alone (no subscription id, no state): the same config
 * always synthesizes the same names. Global names (storage accounts, Key Vault, function app) get
 * a short suffix so two deployments with the same prefix do not collide.
 */
import { createHash } from 'node:crypto';
import type { DeployConfig } from './config.js';

export interface ResourceNames {
  stack: string;
  resourceGroup: string;
  suffix: string;
  vnet: string;
  connectorSubnet: string;
  functionSubnet: string;
  connectorNsg: string;
  functionNsg: string;
  natGateway: string;
  serviceEndpointPolicy: string;
  logAnalytics: string;
  appInsights: string;
  storageAccount: string;
  artifactsStorageAccount: string;
  functionStorageAccount: string;
  keyVault: string;
  connector: string;
  publicIp: string;
  loadBalancer: string;
  servicePlan: string;
  functionApp: string;
  cleanupRole: string;
}

export function resourceNames(config: DeployConfig): ResourceNames {
  const base = `${config.name}-${config.environment}`;
  const compact = `${config.name}${config.environment}`;
  const suffix =
    config.nameSuffix ?? createHash('sha256').update(`${config.name}/${config.environment}/${config.location}`).digest('hex').slice(0, 6);
  return {
    stack: base,
    resourceGroup: config.resourceGroupName ?? `rg-${base}`,
    suffix,
    vnet: `vnet-${base}`,
    connectorSubnet: `snet-${base}-connector`,
    functionSubnet: `snet-${base}-cleanup`,
    connectorNsg: `nsg-${base}-connector`,
    functionNsg: `nsg-${base}-cleanup`,
    natGateway: `ng-${base}-connector`,
    serviceEndpointPolicy: `se-${base}-storage`,
    logAnalytics: `log-${base}`,
    appInsights: `appi-${base}`,
    // Storage account names: 3-24 lowercase alphanumerics, global. name+env <= 13 by the schema.
    storageAccount: `st${compact}${suffix}`,
    artifactsStorageAccount: `stpkg${compact}${suffix}`,
    functionStorageAccount: `stfn${compact}${suffix}`,
    keyVault: `kv${compact}${suffix}`,
    connector: `vm-${base}-connector`,
    publicIp: `pip-${base}-connector`,
    loadBalancer: `lb-${base}-connector`,
    servicePlan: `asp-${base}-cleanup`,
    functionApp: `func-${base}-cleanup-${suffix}`,
    // Role definition names are unique in the tenant, not the subscription.
    cleanupRole: `enos-aml cleanup of exports (${base}-${suffix})`,
  };
}

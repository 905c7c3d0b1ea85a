import { Construct } from 'constructs';
import { MonitorDiagnosticSetting } from '@cdktf/provider-azurerm/lib/monitor-diagnostic-setting/index.js';
import { StorageAccount } from '@cdktf/provider-azurerm/lib/storage-account/index.js';
import { formatIpv4, parseCidr } from '../cidr.js';

export interface SecureStorageAccountProps {
  name: string;
  resourceGroupName: string;
  location: string;
  tags: Record<string, string>;
  /** @default 'ZRS' */
  replication?: 'LRS' | 'ZRS' | 'GRS' | 'GZRS';
  /** Blob soft-delete window in days; 0 turns blob soft delete off. @default 7 */
  softDeleteDays?: number;
  /** Container soft-delete window in days. @default 7 */
  containerSoftDeleteDays?: number;
  /** Keep previous versions of overwritten or deleted blobs. @default false */
  versioning?: boolean;
  /** Send the table service's logs too (an account that holds tables). @default false */
  tableDiagnostics?: boolean;
  /** SAS expiration policy period (`DD.HH:MM:SS`); SAS beyond it are blocked. @default '1.00:00:00' */
  sasExpirationPeriod?: string;
  /**
   * Firewall. `Allow` admits every network (the data is still private: no anonymous access, no
   * shared keys); `Deny` admits only `ipRules` and `subnetIds`.
   */
  network: { defaultAction: 'Allow' | 'Deny'; ipRules?: string[]; subnetIds?: string[] };
  logAnalyticsWorkspaceId: string;
}

/**
 * A StorageV2 account with the project's baseline: HTTPS only, TLS 1.2, no anonymous or nested
 * public access, shared keys off (Azure AD only), infrastructure encryption, no cross-tenant
 * replication, soft delete, a SAS expiration policy, a firewall, and diagnostics to Log Analytics.
 */
export class SecureStorageAccount extends Construct {
  readonly account: StorageAccount;

  constructor(scope: Construct, id: string, props: SecureStorageAccountProps) {
    super(scope, id);
    const softDeleteDays = props.softDeleteDays ?? 7;
    if (!Number.isInteger(softDeleteDays) || softDeleteDays < 0) throw new Error(`SecureStorageAccount: softDeleteDays ${softDeleteDays}; expected 0 (off) or a positive number of days`);
    this.account = new StorageAccount(this, 'account', {
      name: props.name,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      tags: props.tags,
      accountKind: 'StorageV2',
      accountTier: 'Standard',
      accountReplicationType: props.replication ?? 'ZRS',
      accessTier: 'Hot',
      httpsTrafficOnlyEnabled: true,
      minTlsVersion: 'TLS1_2',
      allowNestedItemsToBePublic: false,
      sharedAccessKeyEnabled: false,
      defaultToOauthAuthentication: true,
      infrastructureEncryptionEnabled: true,
      crossTenantReplicationEnabled: false,
      allowedCopyScope: 'AAD',
      localUserEnabled: false,
      sftpEnabled: false,
      publicNetworkAccessEnabled: true,
      blobProperties: {
        ...(softDeleteDays > 0 ? { deleteRetentionPolicy: { days: softDeleteDays } } : {}),
        containerDeleteRetentionPolicy: { days: props.containerSoftDeleteDays ?? 7 },
        versioningEnabled: props.versioning ?? false,
      },
      sasPolicy: { expirationPeriod: props.sasExpirationPeriod ?? '1.00:00:00', expirationAction: 'Block' },
      networkRules: {
        defaultAction: props.network.defaultAction,
        bypass: ['AzureServices'],
        ipRules: storageIpRules(props.network.ipRules ?? []),
        virtualNetworkSubnetIds: props.network.subnetIds ?? [],
      },
    });

    new MonitorDiagnosticSetting(this, 'diagnostics', {
      name: 'to-log-analytics',
      targetResourceId: this.account.id,
      logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
      enabledMetric: [{ category: 'Transaction' }],
    });
    // Reads, writes and deletes are logged per service, not on the account.
    for (const service of props.tableDiagnostics ? (['blob', 'table'] as const) : (['blob'] as const)) {
      new MonitorDiagnosticSetting(this, `${service}_diagnostics`, {
        name: 'to-log-analytics',
        targetResourceId: `${this.account.id}/${service}Services/default`,
        logAnalyticsWorkspaceId: props.logAnalyticsWorkspaceId,
        enabledLog: [{ categoryGroup: 'allLogs' }],
        enabledMetric: [{ category: 'Transaction' }],
      });
    }
  }
}

/**
 * The storage firewall takes single addresses for /31 and /32 ranges and CIDRs only for larger
 * ones; anything else is rejected by the API at apply time. Private ranges are refused by the
 * config (infra/config.ts), as azurerm refuses them.
 */
export function storageIpRules(cidrs: readonly string[]): string[] {
  return cidrs.flatMap((text) => {
    const range = parseCidr(text);
    if (range === undefined) throw new Error(`storageIpRules: got "${text}"; expected an IPv4 CIDR`);
    if (range.prefix < 31) return [text];
    const addresses: string[] = [];
    for (let address = range.first; address <= range.last; address++) {
      addresses.push(formatIpv4(address));
    }
    return addresses;
  });
}

/** `DD.HH:MM:SS`, the period format of the SAS expiration policy. */
export function sasPeriod(minutes: number): string {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${days}.${two(hours)}:${two(mins)}:00`;
}

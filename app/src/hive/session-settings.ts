/**
 * What the connector asks of every HiveServer2 session (TOpenSessionReq.configuration), and how
 * it reads a refused OpenSession.
 *
 * Asked for:
 *  - `hive.server2.thrift.resultset.serialize.in.tasks=false`: columnar row sets even where the
 *    cluster serializes results in its tasks (the connector reads serialized ones too, see
 *    row-set.ts; the setting keeps the fetch size under our control instead of 1,000-row blobs);
 *  - who ran it: `hive.query.name` (the Tez DAG / YARN application name, so cluster admins see
 *    the export and the EnOS user in the ResourceManager) and, from Hive 4.0, `hive.query.tag`
 *    (queries can be found and killed by tag). An older cluster refuses a name from a newer
 *    version ("hive configuration … does not exists"), so the version decides what is sent; and
 *    with SQL-standard authorization Hive before 4.0 refuses hive.query.name (not on its safe
 *    list), so a session refused over a label is opened again without labels (query-runner.ts);
 *  - with impersonation, `hive.server2.proxy.user`, so Ranger / SQL-standard authorization see
 *    the user rather than the service account.
 * Configured settings (HIVE_SESSION_CONF) win over these defaults.
 */
import type { HiveConfig } from '../config/config.js';
import { AppError } from '../errors.js';
import { readableHiveError } from './hive-error-text.js';

/** Who a query runs for: the EnOS user and the export (or preview), for the cluster's own records. */
export interface QueryIdentity {
  /** The export's id, or the preview's. */
  exportId: string;
  /** The EnOS user name. */
  userName: string;
  /** What the query is for, as the cluster's admins read it. @default 'export' */
  purpose?: 'export' | 'preview';
}

export interface ServerVersion {
  major: number;
  minor: number;
}

/** CLI_DBMS_VER as Hive reports it (`3.1.3`, or a vendor build such as `3.1.3000.7.1.7.0-551`). */
export function parseServerVersion(text: string): ServerVersion | undefined {
  const match = /^(\d+)\.(\d+)/.exec(text.trim());
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

/** Conf values travel as text; keep them printable and short (they end up in YARN's UI). */
const printable = (value: string, max = 200): string => value.replace(/[^\x20-\x7e\u00a0-\uffff]/g, '?').slice(0, max);

/** The user's name on the cluster under impersonation, from the configured template. */
export function clusterUserOf(config: HiveConfig, userName: string): string {
  const name = (config.proxyUserTemplate ?? '{username}').replaceAll('{username}', userName);
  if (!/^[A-Za-z0-9._@-]{1,128}$/.test(name)) {
    throw new AppError('hive_forbidden', 403, 'Your account has no user name the Hive cluster accepts for impersonation');
  }
  return name;
}

/** The settings that only label a query; a cluster may refuse them without harm to the export. */
export const QUERY_LABELS = ['hive.query.name', 'hive.query.tag'] as const;

/**
 * The setting a refused OpenSession names, from HiveConf's texts: "Cannot modify X at runtime…"
 * (restricted list, SQL-standard authorization's whitelist) or "hive configuration X does not
 * exists." (a name this version lacks).
 */
export function refusedSetting(message: string): string | undefined {
  return /Cannot modify (\S+) at runtime|hive configuration (\S+) does not exists/.exec(message)?.slice(1).find(Boolean);
}

export function sessionConfiguration(
  config: HiveConfig,
  version: ServerVersion | undefined,
  who: QueryIdentity | undefined,
  options: { labels: boolean } = { labels: true },
): Record<string, string> {
  const conf: Record<string, string> = { 'set:hiveconf:hive.server2.thrift.resultset.serialize.in.tasks': 'false' };
  if (who) {
    if (options.labels) {
      const purpose = who.purpose ?? 'export';
      conf['set:hiveconf:hive.query.name'] = printable(`enos-aml-connector ${purpose} ${who.exportId} for ${who.userName}`);
      const tag = purpose === 'export' ? `enos-aml-${who.exportId}` : `enos-aml-${purpose}-${who.exportId}`;
      if (version && version.major >= 4) conf['set:hiveconf:hive.query.tag'] = printable(tag, 120).replace(/,/g, '_');
    }
    if (config.impersonation === 'proxy-user') conf['hive.server2.proxy.user'] = clusterUserOf(config, who.userName);
  }
  for (const [key, value] of Object.entries(config.sessionConf)) conf[`set:hiveconf:${key}`] = value;
  if (config.defaultDatabase) conf['use:database'] = config.defaultDatabase;
  return conf;
}

/**
 * A refused OpenSession, classified (ThriftCLIService.OpenSession, SessionManager.createSession,
 * HiveSessionImpl.configureSession): what the user can act on is a 4xx-like job error, what the
 * cluster or the connector's settings cause is 503-like. Hive's reason is kept, scrubbed.
 */
export function openSessionError(message: string | undefined, cause: unknown): AppError {
  const reason = readableHiveError(message);
  if (/Failed to validate proxy privilege|Proxy user substitution is not allowed/i.test(reason)) {
    return new AppError('hive_forbidden', 403, `Hive does not let the connector run queries as your cluster user: ${reason}`, { cause });
  }
  if (/Connection limit per (user|ipaddress)|limit .* reached/i.test(reason)) {
    return new AppError('hive_unavailable', 503, `Hive has no free session for the connector right now: ${reason}`, { cause, retryAfterSeconds: 60 });
  }
  if (refusedSetting(reason)) {
    return new AppError('hive_unavailable', 503, `Hive refused the connector's session settings (an administrator must change HIVE_SESSION_CONF or the cluster): ${reason}`, { cause });
  }
  if (/Database .*does not exist|Database does not exist/i.test(reason)) {
    return new AppError('hive_error', 422, `Hive could not open a session: ${reason}`, { cause });
  }
  return new AppError('hive_unavailable', 503, `Hive could not open a session: ${reason}`, { cause });
}

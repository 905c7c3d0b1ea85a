/**
 * What makes one HiveServer2 unlike another: the Hive version it runs and its hive-site.xml.
 * The stand-in's defaults are those of a production cluster, not of a laptop: qualified column
 * names (Hive's own default), serialized row sets for queries that run a job, strict partition
 * checks. A test that wants a lenient server says so.
 *
 * The facts per version, with the Hive source of each, are in the README's table "Real
 * HiveServer2 behaviour"; the profile below is their summary.
 */
import { HiveError } from '../engine/hive-errors.js';

export type HiveVersion = '2.3' | '3.1' | '4.0';
export const HIVE_VERSIONS: readonly HiveVersion[] = ['2.3', '3.1', '4.0'];

export interface VersionProfile {
  version: HiveVersion;
  /** GetInfo CLI_DBMS_VER. */
  dbmsVersion: string;
  /** Highest TProtocolVersion (0-based enum value) the server speaks: CLIService.SERVER_VERSION. */
  maxProtocol: number;
  /** java.sql.Timestamp.toString() keeps `.0`; Hive 3's own Timestamp drops a zero fraction. */
  timestampAlwaysHasFraction: boolean;
  /** hive.server2.limit.connections.per.user exists (SessionManager, Hive 3.0). */
  connectionLimits: boolean;
  /** The strict check that refuses unfiltered partition scans, and whether ErrorMsg tags it [Error 10056]. */
  partitionCheck: { setting: string; tagged: boolean };
  /** A top-level UNION's columns: `_u1.col` (2.3/3.1) or bare (4.0 skips `__u` aliases). */
  unionQualifier: string | undefined;
  /** hive.fetch.task.caching (4.0): a fetch task reads its whole result while RUNNING, not in FetchResults. */
  fetchTaskCaching: boolean;
  /** Prefix of a run-time failure's message (4.0's SQLOperation.runQuery reuses the compile one). */
  runtimeErrorPrefix: string;
  /** 2.3 reports an async failure in GetOperationStatus as the whole Java stack trace. */
  statusErrorIsStackTrace: boolean;
  /** 4.0 sends a fixed info message instead of the stack trace. */
  infoMessages: 'stack' | 'server-side';
}

export const PROFILES: Readonly<Record<HiveVersion, VersionProfile>> = {
  '2.3': {
    version: '2.3', dbmsVersion: '2.3.9', maxProtocol: 9, timestampAlwaysHasFraction: true, connectionLimits: false,
    partitionCheck: { setting: 'hive.strict.checks.large.query', tagged: false }, unionQualifier: '_u1', fetchTaskCaching: false,
    runtimeErrorPrefix: 'Error while processing statement', statusErrorIsStackTrace: true, infoMessages: 'stack',
  },
  '3.1': {
    version: '3.1', dbmsVersion: '3.1.3', maxProtocol: 10, timestampAlwaysHasFraction: false, connectionLimits: true,
    partitionCheck: { setting: 'hive.strict.checks.no.partition.filter', tagged: true }, unionQualifier: '_u1', fetchTaskCaching: false,
    runtimeErrorPrefix: 'Error while processing statement', statusErrorIsStackTrace: false, infoMessages: 'stack',
  },
  '4.0': {
    version: '4.0', dbmsVersion: '4.0.1', maxProtocol: 10, timestampAlwaysHasFraction: false, connectionLimits: true,
    partitionCheck: { setting: 'hive.strict.checks.no.partition.filter', tagged: true }, unionQualifier: undefined, fetchTaskCaching: true,
    runtimeErrorPrefix: 'Error while compiling statement', statusErrorIsStackTrace: false, infoMessages: 'server-side',
  },
};

/**
 * Configuration names a version introduced (or dropped): setting one where it does not exist
 * fails SetProcessor's validation ("hive configuration X does not exists."). The stand-in knows
 * these; any other `hive.` name is taken as known.
 */
const KNOWN_IN: Readonly<Record<string, readonly HiveVersion[]>> = {
  'hive.query.tag': ['4.0'],
  'hive.server2.limit.connections.per.user': ['3.1', '4.0'],
  'hive.strict.checks.no.partition.filter': ['3.1', '4.0'],
  'hive.strict.checks.large.query': ['2.3'],
  'hive.fetch.task.caching': ['4.0'],
};

/**
 * What SQL-standard authorization lets a session set (HiveConf sqlStdAuthSafeVarNames and its
 * regexes), as far as the stand-in needs it: hive.query.name joined the list only in 4.0.
 */
const SQLSTD_SAFE: readonly (RegExp | { name: string; from: HiveVersion })[] = [
  /^hive\.server2\.thrift\.resultset\.(serialize\.in\.tasks|default\.fetch\.size)$/,
  /^hive\.resultset\.use\.unique\.column\.names$/,
  /^hive\.server2\.proxy\.user$/,
  /^hive\.(fetch\.task|strict|exec\.parallel|tez|query\.id)\b/,
  /^(mapreduce\.job\.queuename|tez\.queue\.name)$/,
  { name: 'hive.query.name', from: '4.0' },
  { name: 'hive.query.tag', from: '4.0' },
];

const ORDER: Record<HiveVersion, number> = { '2.3': 0, '3.1': 1, '4.0': 2 };

/**
 * hive-site.xml of the stand-in's cluster. Values are strings, as in Hive; sessions start from
 * these and may override what is not restricted.
 */
export const CLUSTER_DEFAULTS: Readonly<Record<string, string>> = {
  // Tez reports in-place progress; Hive's own default engine, mr, reports none.
  'hive.execution.engine': 'tez',
  'hive.server2.in.place.progress': 'true',
  // Hive's default; a SELECT * comes back as `measurement.asset_id`.
  'hive.resultset.use.unique.column.names': 'true',
  // Off in stock Hive, on in many production clusters (it moves result serialization into the
  // tasks); the connector must cope with either, so the stand-in serves the harder one.
  'hive.server2.thrift.resultset.serialize.in.tasks': 'true',
  'hive.server2.thrift.resultset.default.fetch.size': '1000',
  'hive.fetch.task.conversion': 'more',
  // A cluster that refuses unfiltered scans of partitioned tables (the setting's name is the
  // version's: see VersionProfile.partitionCheck, which the constructor sets to true).
  'hive.server2.async.exec.async.compile': 'false',
  'hive.query.timeout.seconds': '0',
  'hive.server2.allow.user.substitution': 'true',
  'hive.local.time.zone': 'UTC',
};

/** Hive's default hive.conf.restricted.list (HiveConf), plus the list itself. */
export const DEFAULT_RESTRICTED = [
  'hive.conf.restricted.list',
  'hive.security.authenticator.manager',
  'hive.security.authorization.manager',
  'hive.security.metastore.authorization.manager',
  'hive.security.metastore.authenticator.manager',
  'hive.users.in.admin.role',
  'hive.server2.xsrf.filter.enabled',
  'hive.security.authorization.enabled',
  'hive.distcp.privileged.doAs',
  'hive.server2.authentication.ldap.baseDN',
  'hive.server2.authentication.ldap.url',
  'hive.server2.authentication.ldap.Domain',
  'hive.server2.authentication.ldap.groupDNPattern',
  'hive.server2.authentication.ldap.groupFilter',
  'hive.server2.authentication.ldap.userDNPattern',
  'hive.server2.authentication.ldap.userFilter',
  'hive.server2.authentication.ldap.groupMembershipKey',
  'hive.server2.authentication.ldap.userMembershipKey',
  'hive.server2.authentication.ldap.groupClassKey',
  'hive.server2.authentication.ldap.customLDAPQuery',
  'hive.spark.client.channel.log.level',
  'hive.spark.client.secret.bits',
  'hive.spark.client.rpc.server.address',
  'hive.spark.client.rpc.server.port',
  'hive.spark.client.rpc.sasl.mechanisms',
  'hive.query.redaction.rules',
  'hive.server2.limit.connections.per.user',
];

export interface ClusterOptions {
  /** @default '3.1' */
  hiveVersion?: HiveVersion;
  /** hive-site.xml overrides on top of CLUSTER_DEFAULTS. */
  conf?: Record<string, string>;
  /** Extra names for hive.conf.restricted.list (sessions may not set them). */
  restricted?: string[];
  /** hive.server2.limit.connections.per.user; 0 = no limit. @default 0 */
  connectionLimitPerUser?: number;
  /**
   * hadoop.proxyuser.<account>.users: whom each authenticated account may impersonate through
   * `hive.server2.proxy.user`; `'*'` is anyone. @default - nobody may impersonate
   */
  proxyUsers?: Record<string, readonly string[] | '*'>;
  /**
   * hive.security.authorization.enabled with SQL-standard authorization: sessions may set only
   * the settings on its safe list. @default false
   */
  sqlStdAuthorization?: boolean;
}

export class Cluster {
  readonly profile: VersionProfile;
  readonly conf: ReadonlyMap<string, string>;
  private readonly restricted: ReadonlySet<string>;
  readonly connectionLimitPerUser: number;
  private readonly proxyUsers: Readonly<Record<string, readonly string[] | '*'>>;

  private readonly sqlStdAuthorization: boolean;

  constructor(options: ClusterOptions = {}) {
    this.profile = PROFILES[options.hiveVersion ?? '3.1'];
    this.conf = new Map(Object.entries({ ...CLUSTER_DEFAULTS, [this.profile.partitionCheck.setting]: 'true', ...options.conf }));
    this.sqlStdAuthorization = options.sqlStdAuthorization ?? false;
    this.restricted = new Set([...DEFAULT_RESTRICTED, ...(options.restricted ?? [])]);
    this.connectionLimitPerUser = options.connectionLimitPerUser ?? 0;
    this.proxyUsers = options.proxyUsers ?? {};
  }

  /**
   * HiveConf.verifyAndSet as OpenSession's `set:hiveconf:` reaches it through SetProcessor:
   * a restricted name, or a `hive.` name this version does not have, fails the session.
   */
  verifySettable(name: string, viaSetProcessor = true): void {
    // SetProcessor wraps what verifyAndSet throws (HiveSQLException(e): the class name shows);
    // a raw key (no `set:` prefix) reaches verifyAndSet directly.
    const failure = (text: string) => new HiveError(`Failed to open new session: ${viaSetProcessor ? 'java.lang.IllegalArgumentException: ' : ''}${text}`, '', 0);
    const known = KNOWN_IN[name];
    if (viaSetProcessor && known !== undefined && !known.includes(this.profile.version)) {
      throw failure(`hive configuration ${name} does not exists.`);
    }
    if (this.sqlStdAuthorization && !this.sqlStdSafe(name)) {
      throw failure(`Cannot modify ${name} at runtime. It is not in list of params that are allowed to be modified at runtime`);
    }
    // 2.3 matches the restricted list exactly; 3.1 and 4.0 also refuse names a restricted entry prefixes.
    if (this.profile.version === '2.3' ? this.restricted.has(name) : [...this.restricted].some((entry) => name.startsWith(entry))) {
      throw failure(
        this.profile.version === '2.3'
          ? `Cannot modify ${name} at runtime. It is in the list of parameters that can't be modified at runtime`
          : `Cannot modify ${name} at runtime. It is in the list of parameters that can't be modified at runtime or is prefixed by a restricted variable`,
      );
    }
  }

  private sqlStdSafe(name: string): boolean {
    return SQLSTD_SAFE.some((entry) => (entry instanceof RegExp ? entry.test(name) : entry.name === name && ORDER[this.profile.version] >= ORDER[entry.from]));
  }

  /** ThriftCLIService.getProxyUser → HiveAuthFactory.verifyProxyAccess. */
  verifyProxy(realUser: string, proxyUser: string, conf: ReadonlyMap<string, string>): void {
    if (conf.get('hive.server2.allow.user.substitution') !== 'true') throw new HiveError('Proxy user substitution is not allowed', '', 0);
    if (proxyUser.toLowerCase() === realUser.toLowerCase()) return;
    const allowed = this.proxyUsers[realUser];
    if (allowed !== '*' && !allowed?.includes(proxyUser)) {
      throw new HiveError(`Failed to validate proxy privilege of ${realUser} for ${proxyUser}`, '08S01', 0);
    }
  }
}

export function parseHiveVersion(value: string): HiveVersion | undefined {
  return (HIVE_VERSIONS as readonly string[]).includes(value) ? (value as HiveVersion) : undefined;
}

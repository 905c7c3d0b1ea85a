/**
 * What makes one HiveServer2 unlike another: the Hive version it runs and its hive-site.xml.
 * The stand-in's defaults are those of a production cluster, not of a laptop: qualified column
 * names (Hive's own default), serialized row sets for queries that run a job, strict partition
 * checks. A test that wants a lenient server says so.
 *
 * Version facts (see README "Real HiveServer2 behaviour" for the source of each):
 *  - protocol: TCLIService.thrift — V10 (index 9) added in-place progress (Hive 2.2/2.3), V11
 *    (index 10) TIMESTAMP WITH LOCAL TIME ZONE (Hive 3.0);
 *  - TIMESTAMP text: 2.3 prints java.sql.Timestamp.toString() (always a fraction, `.0` at
 *    least); 3.x/4.x print org.apache.hadoop.hive.common.type.Timestamp (no fraction when zero);
 *  - configuration names a version does not know fail OpenSession with HiveConf's validation
 *    error (hive.conf.validation=true), e.g. `hive.query.tag` before 4.0.
 */
import { HiveError } from '../engine/hive-errors.js';

export type HiveVersion = '2.3' | '3.1' | '4.0';
export const HIVE_VERSIONS: readonly HiveVersion[] = ['2.3', '3.1', '4.0'];

export interface VersionProfile {
  version: HiveVersion;
  /** GetInfo CLI_DBMS_VER. */
  dbmsVersion: string;
  /** Highest TProtocolVersion (0-based enum value) the server speaks. */
  maxProtocol: number;
  /** java.sql.Timestamp.toString() keeps `.0`; Hive 3's own Timestamp drops a zero fraction. */
  timestampAlwaysHasFraction: boolean;
  /** hive.server2.limit.connections.per.user exists (HIVE-16917, Hive 3.0). */
  connectionLimits: boolean;
  /** OpenSession checks `use:database` (Hive 4: "Database X does not exist"); older versions fail the first statement. */
  checksUseDatabase: boolean;
}

export const PROFILES: Readonly<Record<HiveVersion, VersionProfile>> = {
  '2.3': { version: '2.3', dbmsVersion: '2.3.9', maxProtocol: 9, timestampAlwaysHasFraction: true, connectionLimits: false, checksUseDatabase: false },
  '3.1': { version: '3.1', dbmsVersion: '3.1.3', maxProtocol: 10, timestampAlwaysHasFraction: false, connectionLimits: true, checksUseDatabase: false },
  '4.0': { version: '4.0', dbmsVersion: '4.0.1', maxProtocol: 10, timestampAlwaysHasFraction: false, connectionLimits: true, checksUseDatabase: true },
};

/** Configuration names a version introduced: setting one on an older server fails validation. */
const INTRODUCED_IN: Readonly<Record<string, HiveVersion>> = {
  'hive.query.tag': '4.0',
  'hive.server2.limit.connections.per.user': '3.1',
  'hive.strict.checks.no.partition.filter': '3.1',
};

const ORDER: Record<HiveVersion, number> = { '2.3': 0, '3.1': 1, '4.0': 2 };

/**
 * hive-site.xml of the stand-in's cluster. Values are strings, as in Hive; sessions start from
 * these and may override what is not restricted.
 */
export const CLUSTER_DEFAULTS: Readonly<Record<string, string>> = {
  // Hive's default; a SELECT * comes back as `measurement.asset_id`.
  'hive.resultset.use.unique.column.names': 'true',
  // Off in stock Hive, on in many production clusters (it moves result serialization into the
  // tasks); the connector must cope with either, so the stand-in serves the harder one.
  'hive.server2.thrift.resultset.serialize.in.tasks': 'true',
  'hive.server2.thrift.resultset.default.fetch.size': '1000',
  'hive.fetch.task.conversion': 'more',
  // A cluster that refuses unfiltered scans of partitioned tables.
  'hive.strict.checks.no.partition.filter': 'true',
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
}

export class Cluster {
  readonly profile: VersionProfile;
  readonly conf: ReadonlyMap<string, string>;
  private readonly restricted: ReadonlySet<string>;
  readonly connectionLimitPerUser: number;
  private readonly proxyUsers: Readonly<Record<string, readonly string[] | '*'>>;

  constructor(options: ClusterOptions = {}) {
    this.profile = PROFILES[options.hiveVersion ?? '3.1'];
    this.conf = new Map(Object.entries({ ...CLUSTER_DEFAULTS, ...options.conf }));
    this.restricted = new Set([...DEFAULT_RESTRICTED, ...(options.restricted ?? [])]);
    this.connectionLimitPerUser = options.connectionLimitPerUser ?? 0;
    this.proxyUsers = options.proxyUsers ?? {};
  }

  /**
   * HiveConf.verifyAndSet as OpenSession's `set:hiveconf:` reaches it through SetProcessor:
   * a restricted name, or a `hive.` name this version does not have, fails the session.
   */
  verifySettable(name: string): void {
    if (this.restricted.has(name)) {
      throw new HiveError(
        `Failed to open new session: java.lang.IllegalArgumentException: Cannot modify ${name} at runtime. It is in the list of parameters that can't be modified at runtime or is prefixed by a restricted variable`,
        '',
        0,
      );
    }
    const introduced = INTRODUCED_IN[name];
    if (introduced !== undefined && ORDER[introduced] > ORDER[this.profile.version]) {
      throw new HiveError(`Failed to open new session: java.lang.IllegalArgumentException: hive configuration ${name} does not exists.`, '', 0);
    }
  }

  /** ThriftCLIService.getProxyUser → HiveAuthFactory.verifyProxyAccess. */
  verifyProxy(realUser: string, proxyUser: string, conf: ReadonlyMap<string, string>): void {
    if (conf.get('hive.server2.allow.user.substitution') !== 'true') {
      throw new HiveError('Failed to open new session: Proxy user substitution is not allowed', '08S01', 0);
    }
    const allowed = this.proxyUsers[realUser];
    if (allowed !== '*' && !allowed?.includes(proxyUser)) {
      throw new HiveError(`Failed to validate proxy privilege of ${realUser} for ${proxyUser}`, '08S01', 0);
    }
  }
}

export function parseHiveVersion(value: string): HiveVersion | undefined {
  return (HIVE_VERSIONS as readonly string[]).includes(value) ? (value as HiveVersion) : undefined;
}

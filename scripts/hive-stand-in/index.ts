/**
 * The HiveServer2 stand-in: the real TCLIService Thrift protocol (binary SASL PLAIN, binary
 * NOSASL, HTTP) over a seeded DuckDB database. See README.md.
 */
export { startHiveStandIn, DEFAULT_SEED_ROWS } from './stand-in.js';
export type { Auth, HiveStandIn, HiveStandInOptions, HttpAuthentication, ListenerInfo, ListenerOptions, TlsIdentity, Transport } from './stand-in.js';
export type { FaultHandle, FaultSpec } from './service/faults.js';
export type { CommandInvocation, OperationInfo } from './service/cli-service.js';
export type { HiveCommand } from './engine/hive-commands.js';
export { chooseProcessor, removeComments } from './engine/hive-commands.js';
export type { DuckDbActivity } from './service/operation.js';
export type { QueryResult } from './engine/hive-database.js';
export { translateHiveQl } from './engine/hiveql.js';
export { HIVE_VERSIONS, type ClusterOptions, type HiveVersion } from './service/cluster.js';

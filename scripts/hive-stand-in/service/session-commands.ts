/**
 * The two command processors the stand-in runs, SET and RESET, as Hive 3's SetProcessor and
 * ResetProcessor treat a session: `args` is the statement without its first word, as
 * HiveCommandOperation passes it. What is not modelled: variable substitution in values,
 * Hadoop defaults (`set -v` lists only what the session set), env:/system: properties (stored
 * as ordinary names) and the restricted list (every name may be set).
 */
import { HiveError } from '../engine/hive-errors.js';

export interface SessionVariables {
  /** hiveconf: names, and names without a prefix. */
  readonly conf: Map<string, string>;
  /** hivevar: names. */
  readonly hivevars: Map<string, string>;
}

const HIVECONF = 'hiveconf:';
const HIVEVAR = 'hivevar:';
const SYSTEM = 'system:';

/** Where a SET name lands, as SetProcessor.setVariable decides. */
function target(session: SessionVariables, name: string): { map: Map<string, string>; key: string } {
  if (name.startsWith(HIVEVAR)) return { map: session.hivevars, key: name.slice(HIVEVAR.length) };
  if (name.startsWith(HIVECONF)) return { map: session.conf, key: name.slice(HIVECONF.length) };
  if (name.startsWith(SYSTEM)) return { map: session.conf, key: name.slice(SYSTEM.length) };
  return { map: session.conf, key: name };
}

/** Stores a session variable the way OpenSession's `set:hiveconf:`/`set:hivevar:` keys do. */
export function setVariable(session: SessionVariables, name: string, value: string): void {
  const { map, key } = target(session, name);
  map.set(key, value);
}

/**
 * SET: `set` (or `set -v`) lists what the session set, sorted, with `silent` and the hivevars;
 * `set k=v` stores and returns no lines (no result set); `set k` returns `k=v` or
 * `k is undefined`. Returns the lines of Hive's one-column `set` result.
 */
export function runSet(session: SessionVariables, args: string): string[] {
  if (args === '' || args === '-v') {
    const all = new Map<string, string>([['silent', 'off'], ...session.conf]);
    for (const [name, value] of session.hivevars) all.set(`${HIVEVAR}${name}`, value);
    return [...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, value]) => `${name}=${value}`);
  }
  const eq = args.indexOf('=');
  if (eq >= 0) {
    // SetProcessor: "x=" keeps the name untrimmed, "x = y" trims both sides.
    const name = eq === args.length - 1 ? args.slice(0, -1) : args.slice(0, eq).trim();
    if (name !== 'silent') setVariable(session, name, args.slice(eq + 1).trim());
    return [];
  }
  if (args.startsWith(HIVEVAR)) {
    const value = session.hivevars.get(args.slice(HIVEVAR.length));
    return [value === undefined ? `${args} is undefined as a hive variable` : `${args}=${value}`];
  }
  if (args.startsWith(HIVECONF)) {
    const value = session.conf.get(args.slice(HIVECONF.length));
    return [value === undefined ? `${args} is undefined as a hive configuration variable` : `${args}=${value}`];
  }
  const value = session.conf.get(args) ?? session.hivevars.get(args);
  return [value === undefined ? `${args} is undefined` : `${args}=${value}`];
}

/**
 * RESET: with no argument every configuration override goes (hivevars stay, as in Hive);
 * `reset k1 k2` (or `reset -d k1`) drops those names. No result set.
 */
export function runReset(session: SessionVariables, args: string): void {
  if (args === '') {
    session.conf.clear();
    return;
  }
  const names = args.split(/\s+/).filter((part) => part !== '' && part !== '-d');
  if (names.length === 0) throw new HiveError('Error while processing statement: No variable names specified', '08S01', 1);
  for (const name of names) session.conf.delete(name);
}

/**
 * The guard's function calls, checked against the whole generated list of Hive's built-ins rather
 * than a hand-picked sample: every built-in the guard allows is accepted in the position Hive
 * allows it, every refused one is refused with its reason, and names that are not built in are
 * refused wherever they stand, whatever their spelling.
 */
import { describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../../../app/src/errors.js';
import { guardSql, type GuardOptions, type TableAccess } from '../../../app/src/sql-guard/guard.js';
import { REFUSED_BUILT_INS, tableGeneratingFunctions } from '../../../app/src/sql-guard/functions.js';
import { HIVE_BUILT_IN_FUNCTIONS, HIVE_VERSIONS, type HiveVersion } from '../../../app/src/sql-guard/hive-functions.js';

const access: TableAccess = { databases: ['enos'] };
const options: GuardOptions = { defaultDatabase: 'enos' };

function refusal(sql: string, guardOptions: GuardOptions = options): AppError {
  try {
    guardSql(sql, access, guardOptions);
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error(`expected the guard to refuse: ${sql}`);
}

const builtIns = Object.entries(HIVE_BUILT_IN_FUNCTIONS).map(([name, [kinds, versions]]) => ({ name, kinds, versions }));
// `div` is registered for the DIV operator; Hive's lexer never reads it as a name, so div(…) is no call.
const callable = builtIns.filter(({ name, kinds }) => REFUSED_BUILT_INS[name] === undefined && !kinds.includes('table') && name !== 'div');
const udtfs = callable.filter(({ kinds }) => kinds.includes('table-generating'));

/** A call of `name` where Hive takes it: a UDTF alone in SELECT with column aliases, others anywhere. */
const callOf = (name: string, isUdtf: boolean): string =>
  isUdtf ? `select ${name}(tags) as (a, b) from enos.asset` : `select ${name}(id) from enos.asset`;

/** Deterministic pseudo-random numbers, so a failure names a reproducible case. */
function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.floor((state / 2_147_483_648) * n);
  };
}

describe('the generated list of built-ins', () => {
  it('holds the functions every Hive version has, with their kinds', () => {
    expect(builtIns.length).toBeGreaterThan(300);
    for (const name of ['abs', 'concat', 'get_json_object', 'date_format', 'nvl', 'if', 'cast_format', 'extract_union']) {
      expect(HIVE_BUILT_IN_FUNCTIONS[name]?.[0]).toContain('scalar');
    }
    for (const name of ['count', 'sum', 'collect_set', 'percentile_approx', 'row_number', 'rank', 'lead', 'lag', 'first_value']) {
      expect(HIVE_BUILT_IN_FUNCTIONS[name]?.[0]).toContain('aggregate');
    }
    expect([...tableGeneratingFunctions(HIVE_VERSIONS)]).toEqual(expect.arrayContaining(['explode', 'posexplode', 'inline', 'stack', 'json_tuple', 'parse_url_tuple']));
    expect(HIVE_BUILT_IN_FUNCTIONS.explode?.[1]).toEqual(HIVE_VERSIONS);
  });

  it('names every refused built-in as a real built-in, so the two lists cannot drift apart', () => {
    for (const name of Object.keys(REFUSED_BUILT_INS)) expect(HIVE_BUILT_IN_FUNCTIONS[name], name).toBeDefined();
  });

  it('is not fooled by names of Object.prototype', () => {
    for (const name of ['constructor', 'tostring', 'hasownproperty', '__proto__']) {
      expect(refusal(`select ${name}(1)`).message).toContain(`Function ${name}() at line 1 column 8 is not a Hive built-in function`);
    }
  });
});

describe('every built-in the guard allows', () => {
  it.each(callable.map(({ name, kinds }) => [name, kinds.includes('table-generating')] as const))('accepts %s()', (name, isUdtf) => {
    expect(guardSql(callOf(name, isUdtf), access, options).tables).toEqual(['enos.asset']);
  });

  it.each(udtfs.map(({ name }) => name))('accepts %s() in LATERAL VIEW', (name) => {
    expect(guardSql(`select t.a from enos.asset lateral view ${name}(tags) t as a, b`, access, options).tables).toEqual(['enos.asset']);
  });

  it('accepts them in any letter case and in backticks, as Hive looks them up lowercased', () => {
    const random = seeded(9);
    for (const { name, kinds } of callable) {
      const spelled = [...name].map((char) => (random(2) === 0 ? char.toUpperCase() : char)).join('');
      const callee = random(2) === 0 ? spelled : `\`${spelled}\``;
      expect(() => guardSql(callOf(callee, kinds.includes('table-generating')), access, options), callee).not.toThrow();
    }
  });
});

describe('the built-ins the guard refuses', () => {
  it.each(Object.entries(REFUSED_BUILT_INS))('refuses %s() with its reason', (name, reason) => {
    const error = refusal(`select id, ${name}('x', 'y') from enos.asset`);
    expect({ code: error.code, message: error.message, details: error.details }).toEqual({
      code: 'sql_rejected',
      message: `Function ${name}() is not allowed: ${reason} (at line 1 column 12)`,
      details: { position: { line: 1, column: 12 } },
    });
  });

  it.each(builtIns.filter(({ kinds }) => kinds.includes('table')).map(({ name }) => name))('refuses the table function %s()', (name) => {
    expect(refusal(`select * from ${name}(on enos.asset partition by id)`).message).toBe(
      `Function ${name}() is not allowed: it is a table function (PTF) over a table the guard cannot check (at line 1 column 15)`,
    );
  });
});

describe('names that are not built in', () => {
  it('refuses thousands of generated names wherever they are called, at their position', () => {
    const random = seeded(20_261_206);
    const letters = 'abcdefghijklmnopqrstuvwxyz_0123456789';
    const places: ((call: string) => string)[] = [
      (call) => `select ${call} from enos.asset`,
      (call) => `select id from enos.asset where id > ${call}`,
      (call) => `select sum(v) over (partition by ${call}) from enos.measurement`,
      (call) => `select id from enos.asset where id in (select ${call} from enos.power_load)`,
      (call) => `with q as (select ${call} as x from enos.asset) select * from q`,
      (call) => `select * from enos.asset lateral view ${call} t as x`,
      (call) => `select id from enos.asset group by id having count(*) > ${call}`,
      (call) => `select id from enos.asset order by\n  ${call}`,
    ];
    let checked = 0;
    for (let i = 0; i < 3_000; i++) {
      const name = `${letters[random(26)]}${Array.from({ length: random(12) }, () => letters[random(letters.length)]).join('')}`;
      if (Object.hasOwn(HIVE_BUILT_IN_FUNCTIONS, name)) continue;
      const place = places[random(places.length)] as (call: string) => string;
      const marker = '\u0000';
      const template = place(marker);
      const sql = template.replace(marker, `${name}(id)`);
      const offset = template.indexOf(marker);
      const lineStart = sql.lastIndexOf('\n', offset - 1) + 1;
      const line = sql.slice(0, offset).split('\n').length;
      const column = offset - lineStart + 1;
      const error = refusal(sql);
      expect({ sql, message: error.message, details: error.details }).toEqual({
        sql,
        message: `Function ${name}() at line ${line} column ${column} is not a Hive built-in function; user-defined functions are not allowed`,
        details: { position: { line, column } },
      });
      checked += 1;
    }
    expect(checked).toBeGreaterThan(2_500);
  });
});

describe('a known Hive version', () => {
  it.each(HIVE_VERSIONS.map((version) => [version] as const))('allows exactly the built-ins of Hive %s', (version: HiveVersion) => {
    for (const { name, kinds, versions } of callable) {
      const sql = callOf(name, kinds.includes('table-generating'));
      if (versions.includes(version)) {
        expect(() => guardSql(sql, access, { ...options, hiveVersion: version }), name).not.toThrow();
      } else {
        expect(refusal(sql, { ...options, hiveVersion: version }).message, name).toBe(
          `Function ${name}() at line 1 column 8 is not built into Hive ${version}, only into Hive ${versions.join(', ')}`,
        );
      }
    }
  });

  it('offers LATERAL VIEW only the table-generating functions of that version', () => {
    const sql = 'select t.a from enos.asset lateral view ds_freq_frequent_items(tags) t as a';
    expect(guardSql(sql, access, { ...options, hiveVersion: '4.0' }).tables).toEqual(['enos.asset']);
    expect(refusal(sql, { ...options, hiveVersion: '3.1' }).message).toContain('is not built into Hive 3.1, only into Hive 4.0');
  });
});

/**
 * A query's result columns as users should see them, the same on every cluster:
 *  - names: HiveServer2 qualifies a column with its table alias when
 *    hive.resultset.use.unique.column.names is on (Hive's default): `SELECT *` comes back as
 *    `measurement.asset_id`, a top-level UNION as `_u1.asset_id` (SemanticAnalyzer /
 *    convertRowSchemaToResultSetSchema). Hive forbids dots in column names (HIVE-10120), so the
 *    part after the last dot is the column; only an alias the user wrote in backticks may hold a
 *    dot (`AS \`a.b\``), and such a name is kept as written. Names a join would repeat get `_2`,
 *    `_3` … so every header is distinct whatever the cluster setting.
 *  - types: Hive's type text (`decimal(38,6)`, `varchar(20)`), from TTypeDesc's type id and
 *    qualifiers. Complex types arrive as their category only (`array`, `map`, …): HiveServer2's
 *    result-set metadata carries no element types.
 */
import type { ThriftTableSchema } from './row-set.js';

export interface ResultColumn {
  name: string;
  /** Hive's type text, e.g. `bigint`, `decimal(38,6)`, `timestamp`. */
  type: string;
  /** TTypeId of TCLIService.thrift, which the encoders switch on. */
  typeId: number;
  /** DECIMAL only: its scale. */
  scale?: number;
  /** Hive result sets never promise NOT NULL. */
  nullable: true;
}

/** TTypeId → Hive's type name (serdeConstants), in enum order. */
const TYPE_NAMES = [
  'boolean', 'tinyint', 'smallint', 'int', 'bigint', 'float', 'double', 'string', 'timestamp', 'binary', 'array', 'map', 'struct',
  'uniontype', 'user_defined', 'decimal', 'void', 'date', 'varchar', 'char', 'interval_year_month', 'interval_day_time',
  'timestamp with local time zone',
];

export const TYPE_ID = {
  BOOLEAN: 0, TINYINT: 1, SMALLINT: 2, INT: 3, BIGINT: 4, FLOAT: 5, DOUBLE: 6, STRING: 7, TIMESTAMP: 8, BINARY: 9, ARRAY: 10, MAP: 11,
  STRUCT: 12, UNION: 13, USER_DEFINED: 14, DECIMAL: 15, NULL: 16, DATE: 17, VARCHAR: 18, CHAR: 19, INTERVAL_YEAR_MONTH: 20,
  INTERVAL_DAY_TIME: 21, TIMESTAMPLOCALTZ: 22,
} as const;

interface Qualifiers {
  [name: string]: { i32Value?: number | null } | undefined;
}

function typeText(typeId: number, qualifiers: Qualifiers | undefined): string {
  const name = TYPE_NAMES[typeId] ?? 'string';
  const q = (key: string) => qualifiers?.[key]?.i32Value;
  if (typeId === TYPE_ID.DECIMAL && q('precision') !== undefined) return `decimal(${q('precision')},${q('scale') ?? 0})`;
  if ((typeId === TYPE_ID.VARCHAR || typeId === TYPE_ID.CHAR) && q('characterMaximumLength') !== undefined) return `${name}(${q('characterMaximumLength')})`;
  return name;
}

/** Aliases written in backticks, lower-cased as Hive stores them; strings and comments skipped. */
export function backtickNames(sql: string): Set<string> {
  const names = new Set<string>();
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.slice(i).search(/[\r\n]/);
      i = end < 0 ? sql.length : i + end;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'" || c === '"') {
      i++;
      while (i < sql.length && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '`') {
      let name = '';
      i++;
      while (i < sql.length) {
        if (sql[i] === '`' && sql[i + 1] === '`') {
          name += '`';
          i += 2;
        } else if (sql[i] === '`') break;
        else name += sql[i++];
      }
      i++;
      names.add(name.toLowerCase());
    } else i++;
  }
  return names;
}

/** The column a possibly qualified result name stands for (see the module comment). */
export function bareName(name: string, written: ReadonlySet<string>): string {
  if (written.has(name.toLowerCase())) return name;
  const dot = name.lastIndexOf('.');
  return dot >= 0 && dot < name.length - 1 ? name.slice(dot + 1) : name;
}

/** `a, a` → `a, a_2`, never colliding with a name already present. */
export function distinctNames(names: readonly string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let n = 2;
    while (taken.has(`${name}_${n}`) || seen.has(`${name}_${n}`)) n++;
    const unique = `${name}_${n}`;
    seen.add(unique);
    return unique;
  });
}

export function resultColumns(schema: ThriftTableSchema, sql: string): ResultColumn[] {
  const written = backtickNames(sql);
  const names = distinctNames(schema.columns.map((column) => bareName(column.columnName, written)));
  return schema.columns.map((column, i) => {
    const entry = column.typeDesc.types[0]?.primitiveEntry;
    const typeId = entry?.type ?? TYPE_ID.STRING;
    const qualifiers = entry?.typeQualifiers?.qualifiers as Qualifiers | undefined;
    const scale = typeId === TYPE_ID.DECIMAL ? (qualifiers?.scale?.i32Value ?? undefined) : undefined;
    return { name: names[i]!, type: typeText(typeId, qualifiers), typeId, ...(scale !== undefined && scale !== null ? { scale } : {}), nullable: true };
  });
}

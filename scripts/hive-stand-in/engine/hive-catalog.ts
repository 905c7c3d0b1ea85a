/**
 * What the Hive metastore knows about the seeded tables and DuckDB cannot hold: the Hive types
 * DuckDB has no twin for (CHAR(n) and VARCHAR(n) keep their length in Hive, DuckDB has one
 * VARCHAR; Hive's two interval types are one INTERVAL in DuckDB) and which columns are
 * partition keys. Keys are `database.table` and column names, lower case.
 */

/** Hive type text of a column whose DuckDB type would be reported otherwise. */
export const HIVE_COLUMN_TYPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'enos.type_probe': {
    c_char: 'char(10)',
    c_varchar: 'varchar(20)',
    c_interval_ym: 'interval_year_month',
    c_interval_dt: 'interval_day_time',
  },
};

/**
 * Partition keys, which Hive stores in the directory layout and lists after the data columns
 * (`SELECT *` ends with them, as the DuckDB table does).
 */
export const PARTITION_KEYS: Readonly<Record<string, readonly string[]>> = {
  'enos.measurement_daily': ['dt'],
};

export function hiveColumnType(database: string, table: string, column: string): string | undefined {
  return HIVE_COLUMN_TYPES[`${database}.${table}`.toLowerCase()]?.[column.toLowerCase()];
}

export function partitionKeys(database: string, table: string): readonly string[] {
  return PARTITION_KEYS[`${database}.${table}`.toLowerCase()] ?? [];
}

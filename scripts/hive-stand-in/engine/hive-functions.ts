/**
 * Common Hive built-ins DuckDB lacks, as DuckDB macros, so queries written for Hive run unchanged.
 * Only functions whose Hive meaning a macro reproduces exactly are here; built-ins DuckDB already
 * has with a different signature (datediff, date_sub, regexp_replace...) are left alone rather
 * than shadowed.
 */
export const HIVE_FUNCTION_MACROS: readonly string[] = [
  'CREATE OR REPLACE MACRO nvl(value, fallback) AS coalesce(value, fallback)',
  'CREATE OR REPLACE MACRO nvl2(value, if_not_null, if_null) AS CASE WHEN value IS NOT NULL THEN if_not_null ELSE if_null END',
  'CREATE OR REPLACE MACRO pmod(a, b) AS ((a % b) + b) % b',
  'CREATE OR REPLACE MACRO rand() AS random()',
  'CREATE OR REPLACE MACRO size(collection) AS len(collection)',
  'CREATE OR REPLACE MACRO locate(needle, haystack) AS instr(haystack, needle)',
  "CREATE OR REPLACE MACRO from_unixtime(seconds) AS strftime(to_timestamp(seconds), '%Y-%m-%d %H:%M:%S')",
  'CREATE OR REPLACE MACRO unix_timestamp() AS CAST(epoch(current_timestamp) AS BIGINT), (value) AS CAST(epoch(CAST(value AS TIMESTAMP)) AS BIGINT)',
  'CREATE OR REPLACE MACRO to_date(value) AS CAST(CAST(value AS TIMESTAMP) AS DATE)',
  'CREATE OR REPLACE MACRO collect_list(value) AS list(value)',
  'CREATE OR REPLACE MACRO collect_set(value) AS list(DISTINCT value)',
];

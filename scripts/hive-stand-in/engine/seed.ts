/**
 * The EnOS-like data the stand-in serves, generated inside DuckDB with set-based SQL (range() and
 * hash()), so ten million measurement rows take seconds and every run produces the same rows.
 * Hive databases are DuckDB schemas, which is why `enos.asset` works as users write it.
 */

/** Bump when the generated data changes, so persisted database files are re-seeded. */
export const SEED_VERSION = 2;

const ASSET_COUNT = 1000;

/** Points per asset type (wind turbine, PV inverter, meter), four each, indexed 1-based in SQL. */
const POINTS = [
  'active_power', 'wind_speed', 'rotor_speed', 'nacelle_temp',
  'active_power', 'dc_voltage', 'irradiance', 'module_temp',
  'active_energy', 'reactive_power', 'voltage', 'current',
];

const sqlList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;

/** asset_id for the 1-based asset number `n` of type index `k` (0..2); shared by both tables. */
const assetId = (n: string, k: string) => `['WTG', 'INV', 'MTR'][${k} + 1] || '-' || lpad(CAST(${n} AS VARCHAR), 5, '0')`;

export function seedStatements(measurementRows: number): string[] {
  if (!Number.isSafeInteger(measurementRows) || measurementRows < 0) {
    throw new Error(`seedRows must be a non-negative integer, got ${measurementRows}`);
  }
  return [
    'DROP SCHEMA IF EXISTS enos CASCADE',
    'DROP SCHEMA IF EXISTS enos_other CASCADE',
    'CREATE SCHEMA enos',
    'CREATE SCHEMA enos_other',

    // Meters have no rated capacity: NULL, as in the EnOS asset model.
    `CREATE TABLE enos.asset AS
     WITH base AS (SELECT n, CAST(n % 3 AS INTEGER) AS k, hash(n, 'asset') AS h FROM range(1, ${ASSET_COUNT + 1}) AS r(n))
     SELECT
       ${assetId('n', 'k')} AS asset_id,
       ['Wind Turbine', 'PV Inverter', 'Meter'][k + 1] || ' ' || lpad(CAST(n AS VARCHAR), 5, '0') AS name,
       ['wind_turbine', 'pv_inverter', 'meter'][k + 1] AS asset_type,
       'SITE-' || lpad(CAST(1 + n % 40 AS VARCHAR), 3, '0') AS site_id,
       CAST(CASE k WHEN 0 THEN 1500 + h % 3000 WHEN 1 THEN 50 + h % 250 END + (h % 100) / 100 AS DECIMAL(10, 2)) AS capacity_kw,
       CASE WHEN n % 10 = 0 THEN 'o15594447379181' ELSE 'demo-org' END AS org_id,
       DATE '2012-01-01' + CAST(h % 4000 AS INTEGER) AS commissioned
     FROM base ORDER BY n`,

    // Row i: asset (i % 1000) + 1, point (i / 1000) % 4 of that asset's type, one reading per
    // point every 10 minutes with millisecond jitter; 2% of values and 1% of qualities are NULL.
    `CREATE TABLE enos.measurement AS
     WITH base AS (
       SELECT i, i % ${ASSET_COUNT} + 1 AS n, CAST((i % ${ASSET_COUNT} + 1) % 3 AS INTEGER) AS k,
              i // ${ASSET_COUNT} AS step, hash(i, 'measurement') AS h
       FROM range(${measurementRows}) AS r(i)
     )
     SELECT
       ${assetId('n', 'k')} AS asset_id,
       TIMESTAMP '2024-01-01 00:00:00' + to_seconds(CAST((step // 4) * 600 AS BIGINT)) + to_milliseconds(CAST(h % 1000 AS BIGINT)) AS ts,
       ${sqlList(POINTS)}[k * 4 + CAST(step % 4 AS INTEGER) + 1] AS point,
       CASE WHEN h % 50 = 0 THEN NULL ELSE round(CAST(h % 1000000 AS DOUBLE) / 1000, 3) END AS value,
       CAST(CASE WHEN h % 97 = 0 THEN NULL WHEN h % 20 = 0 THEN 1 ELSE 0 END AS INTEGER) AS quality
     FROM base`,

    // The measurements of the first 100,000 rows again, partitioned by day as EnOS keeps its
    // time series (Hive: PARTITIONED BY (dt STRING); the partition column comes last). A strict
    // cluster refuses to scan it without a predicate on dt (see hive-catalog.ts).
    `CREATE TABLE enos.measurement_daily AS
     SELECT asset_id, ts, point, value, quality, strftime(ts, '%Y-%m-%d') AS dt
     FROM enos.measurement LIMIT ${Math.min(measurementRows, 100_000)}`,

    // Hourly load per region over 2023-2024 for forecasting: daily and yearly cycles, holiday
    // dips, temperature with sensor gaps (NULL).
    `CREATE TABLE enos.power_load AS
     WITH hours AS (SELECT h, TIMESTAMP '2023-01-01 00:00:00' + to_hours(h) AS ts FROM range(0, 731 * 24) AS r(h)),
     regions AS (SELECT * FROM (VALUES ('north', 820.0), ('south', 1140.0), ('east', 640.0), ('west', 960.0)) AS v(region, base_mw)),
     grid AS (
       SELECT region, base_mw, ts, hash(region, h) AS noise,
              strftime(ts, '%m-%d') IN ('01-01', '05-01', '10-01', '10-02', '10-03', '12-25') AS is_holiday,
              12 + 10 * sin(2 * pi() * (dayofyear(ts) - 110) / 365) + 5 * sin(2 * pi() * (hour(ts) - 9) / 24) AS temp
       FROM regions CROSS JOIN hours
     )
     SELECT
       region, ts,
       CAST(base_mw * (1 + 0.25 * sin(2 * pi() * (hour(ts) - 6) / 24)) * CASE WHEN is_holiday THEN 0.8 ELSE 1 END
            + 6 * abs(temp - 18) + (noise % 4000) / 100 AS DECIMAL(10, 3)) AS load_mw,
       CASE WHEN noise % 200 = 0 THEN NULL ELSE round(temp + (noise % 300) / 100 - 1.5, 1) END AS temperature_c,
       is_holiday
     FROM grid ORDER BY region, ts`,

    `CREATE TABLE enos_other.site AS
     SELECT * FROM (VALUES
       ('SITE-901', 'Hamburg Offshore',  'DE', 53.55, 9.99,   'other-org', CAST(320.00 AS DECIMAL(8, 2)), DATE '2015-06-01'),
       ('SITE-902', 'Jutland Ridge',     'DK', 56.26, 9.50,   'other-org', CAST(144.50 AS DECIMAL(8, 2)), DATE '2017-09-15'),
       ('SITE-903', 'Atacama Solar',     'CL', -24.50, -69.25, 'other-org', CAST(210.75 AS DECIMAL(8, 2)), DATE '2019-03-01'),
       ('SITE-904', 'Gansu Plains',      'CN', 36.06, 103.83, 'other-org', CAST(500.00 AS DECIMAL(8, 2)), DATE '2016-11-20'),
       ('SITE-905', 'Texas Panhandle',   'US', 35.22, -101.83, 'other-org', CAST(410.20 AS DECIMAL(8, 2)), DATE '2018-05-05'),
       ('SITE-906', 'Rajasthan Park',    'IN', 27.02, 74.22,  'other-org', NULL, DATE '2021-01-10'),
       ('SITE-907', 'Zürich Rooftops',   'CH', 47.37, 8.54,   'other-org', CAST(12.30 AS DECIMAL(8, 2)), NULL)
     ) AS v(site_id, name, country, latitude, longitude, org_id, capacity_mw, opened)`,

    // Every type the stand-in maps, edge values, and NULLs in every column (rows 2 and 10, so the
    // null bitmaps span two bytes), for cell-by-cell protocol tests.
    `CREATE TABLE enos.type_probe (
       id INTEGER, c_boolean BOOLEAN, c_tinyint TINYINT, c_smallint SMALLINT, c_int INTEGER, c_bigint BIGINT,
       c_float FLOAT, c_double DOUBLE, c_decimal DECIMAL(10, 2), c_decimal_wide DECIMAL(38, 6), c_string VARCHAR,
       c_long_string VARCHAR, c_date DATE, c_timestamp TIMESTAMP, c_binary BLOB)`,
    `INSERT INTO enos.type_probe VALUES
       (1, true, 1, 1, 1, 9007199254740993, 1.5, 0.1, 12.50, 1.000001, 'a', 'a string longer than twelve bytes', DATE '2024-02-29', TIMESTAMP '2024-02-29 23:59:59.123', '\\x00\\xFF'::BLOB),
       (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
       (3, false, -128, -32768, -2147483648, -9223372036854775808, -3.25, -1e300, -0.05, -12345678901234567890123456789012.123456, '', 'it''s "quoted", tab\tand newline\n', DATE '1970-01-01', TIMESTAMP '1970-01-01 00:00:00', ''::BLOB),
       (4, true, 127, 32767, 2147483647, 9223372036854775807, 3.4e38, 1.7976931348623157e308, 99999999.99, 99999999999999999999999999999999.999999, 'Zürich ⚡ 風力', 'Ünïcödé beyond twelve bytes: 風力発電', DATE '9999-12-31', TIMESTAMP '2038-01-19 03:14:07.999999', 'bytes'::BLOB),
       (5, NULL, 5, NULL, 5, NULL, 5, NULL, 5, NULL, 'five', NULL, DATE '2000-01-01', NULL, NULL),
       (6, true, NULL, 6, NULL, 6, NULL, 6, NULL, 6, NULL, 'six six six six', NULL, TIMESTAMP '2000-01-01 12:00:00.5', 'six'::BLOB),
       (7, false, 7, 7, 7, -9007199254740993, 7, 7.25, 0.00, 0.000001, 'seven', 'seven seven seven', DATE '1900-03-01', TIMESTAMP '1899-12-31 23:59:59', 'seven'::BLOB),
       (8, true, 8, 8, 8, 8, 8, 8, 8, 8, 'eight', 'eight eight eight', DATE '2024-01-08', TIMESTAMP '2024-01-08 08:08:08.08', 'eight'::BLOB),
       (9, false, 9, 9, 9, 9, 9, 9, 9, 9, 'nine', 'nine nine nine nine', DATE '2024-01-09', TIMESTAMP '2024-01-09 09:09:09', 'nine'::BLOB),
       (10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
       (11, true, 11, 11, 11, 11, 11, 11, 11, 11, 'eleven', 'eleven eleven eleven', DATE '2024-01-11', TIMESTAMP '2024-01-11 11:11:11.000011', 'eleven'::BLOB)`,

    // The types Hive sends as text (CHAR/VARCHAR with their lengths, complex types as JSON,
    // intervals, TIMESTAMP WITH LOCAL TIME ZONE; see hive-catalog.ts for the Hive types). Real Hive
    // cannot store intervals in a table (they come from expressions); the probe carries them so
    // every cell can be checked the same way.
    `ALTER TABLE enos.type_probe ADD COLUMN c_char VARCHAR`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_varchar VARCHAR`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_array INTEGER[]`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_map MAP(VARCHAR, DOUBLE)`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_struct STRUCT(name VARCHAR, ts TIMESTAMP, amount DECIMAL(10, 2))`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_union UNION(i INTEGER, s VARCHAR)`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_interval_ym INTERVAL`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_interval_dt INTERVAL`,
    `ALTER TABLE enos.type_probe ADD COLUMN c_tslocal TIMESTAMPTZ`,
    `UPDATE enos.type_probe AS p SET
       c_char = v.c_char, c_varchar = v.c_varchar, c_array = v.c_array, c_map = v.c_map, c_struct = v.c_struct, c_union = v.c_union,
       c_interval_ym = v.c_interval_ym, c_interval_dt = v.c_interval_dt, c_tslocal = v.c_tslocal
     FROM (VALUES
       (1, 'ab', 'varchar one', [1, 2, 3], MAP {'a': 1.5, 'b': NULL}, {'name': 'x"y', 'ts': TIMESTAMP '2024-01-01 00:00:00', 'amount': 12.50},
        CAST(union_value(i := 7) AS UNION(i INTEGER, s VARCHAR)), INTERVAL '14 months', INTERVAL '1 day 02:03:04.5', TIMESTAMPTZ '2024-02-29 23:59:59.123+00'),
       (3, '', '', [], MAP {}, {'name': '', 'ts': NULL, 'amount': -0.05},
        CAST(union_value(s := 'tab	q"') AS UNION(i INTEGER, s VARCHAR)), INTERVAL '-3 months', INTERVAL '-1 day', TIMESTAMPTZ '1970-01-01 00:00:00+00'),
       (4, 'Zü⚡', 'Zürich ⚡ 風力', [NULL, -2147483648], MAP {'k
': 1e300}, {'name': 'Ünï', 'ts': TIMESTAMP '2038-01-19 03:14:07.999999', 'amount': 99999999.99},
        CAST(union_value(s := 'Zürich') AS UNION(i INTEGER, s VARCHAR)), INTERVAL '0 months', INTERVAL '0 seconds', TIMESTAMPTZ '2038-01-19 03:14:07.999999+00'),
       (7, 'seven', 'seven', [7], MAP {'seven': 7.0}, {'name': 'seven', 'ts': TIMESTAMP '1899-12-31 23:59:59', 'amount': 7.00},
        CAST(union_value(i := -7) AS UNION(i INTEGER, s VARCHAR)), INTERVAL '100 years', INTERVAL '36 hours', TIMESTAMPTZ '2000-01-01 12:00:00.5+00')
     ) AS v(id, c_char, c_varchar, c_array, c_map, c_struct, c_union, c_interval_ym, c_interval_dt, c_tslocal)
     WHERE p.id = v.id`,
  ];
}

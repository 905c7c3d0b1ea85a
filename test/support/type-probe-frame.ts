/**
 * The type probe (seed.ts's enos.type_probe, rows 1–11) as a pandas DataFrame must hold it once
 * read the right way: each column's dtype and each cell as [Python type, text] (DESCRIBE_FRAME
 * in debian-python.ts). Shared by the pandas snippet's and the Python helper's tests, which
 * must agree.
 */

export type Cell = [string, string] | null;
export interface Frame {
  columns: string[];
  dtypes: Record<string, string>;
  values: Record<string, Cell[]>;
}

export const PROBE = 'SELECT * FROM enos.type_probe ORDER BY id';

/** What each probe column reads as (pandas 1.5: no DATE 9999-12-31 in datetime64[ns], so c_date stays text; see snippets.ts). */
export const PROBE_DTYPES = {
  id: 'Int32',
  c_boolean: 'boolean',
  c_tinyint: 'Int8',
  c_smallint: 'Int16',
  c_int: 'Int32',
  c_bigint: 'Int64',
  c_float: 'float32',
  c_double: 'float64',
  c_decimal: 'object',
  c_decimal_wide: 'object',
  c_string: 'string',
  c_long_string: 'string',
  c_date: 'object',
  c_timestamp: 'datetime64[ns]',
  c_binary: 'object',
  c_char: 'string',
  c_varchar: 'string',
  c_array: 'string',
  c_map: 'string',
  c_struct: 'string',
  c_union: 'string',
  c_interval_ym: 'string',
  c_interval_dt: 'string',
  c_tslocal: 'string',
};

export const nan: Cell = ['float', 'nan'];
export const ints = (type: string, values: (string | null)[]): Cell[] => values.map((value) => (value === null ? null : [type, value]));

/** Rows 1–11 of seed.ts's type_probe, as pandas holds them. */
export const PROBE_VALUES: Record<string, Cell[]> = {
  c_boolean: ints('bool', ['True', null, 'False', 'True', null, 'True', 'False', 'True', 'False', null, 'True']),
  c_tinyint: ints('int', ['1', null, '-128', '127', '5', null, '7', '8', '9', null, '11']),
  c_smallint: ints('int', ['1', null, '-32768', '32767', null, '6', '7', '8', '9', null, '11']),
  c_int: ints('int', ['1', null, '-2147483648', '2147483647', '5', null, '7', '8', '9', null, '11']),
  c_bigint: ints('int', ['9007199254740993', null, '-9223372036854775808', '9223372036854775807', null, '6', '-9007199254740993', '8', '9', null, '11']),
  // float32 values shown widened to Python's float: 3.4e38 is the float32 nearest to it.
  c_float: [['float', '1.5'], nan, ['float', '-3.25'], ['float', '3.3999999521443642e+38'], ['float', '5.0'], nan, ['float', '7.0'], ['float', '8.0'], ['float', '9.0'], nan, ['float', '11.0']],
  c_double: [['float', '0.1'], nan, ['float', '-1e+300'], ['float', '1.7976931348623157e+308'], nan, ['float', '6.0'], ['float', '7.25'], ['float', '8.0'], ['float', '9.0'], nan, ['float', '11.0']],
  c_decimal: [['Decimal', '12.50'], nan, ['Decimal', '-0.05'], ['Decimal', '99999999.99'], ['Decimal', '5.00'], nan, ['Decimal', '0.00'], ['Decimal', '8.00'], ['Decimal', '9.00'], nan, ['Decimal', '11.00']],
  c_decimal_wide: [
    ['Decimal', '1.000001'], nan, ['Decimal', '-12345678901234567890123456789012.123456'], ['Decimal', '99999999999999999999999999999999.999999'], nan,
    ['Decimal', '6.000000'], ['Decimal', '0.000001'], ['Decimal', '8.000000'], ['Decimal', '9.000000'], nan, ['Decimal', '11.000000'],
  ],
  // Row 3 is "" and row 2 NULL: the one thing read_csv alone cannot tell apart.
  c_string: ints('str', ['a', null, '', 'Zürich ⚡ 風力', 'five', null, 'seven', 'eight', 'nine', null, 'eleven']),
  c_long_string: ints('str', [
    'a string longer than twelve bytes', null, 'it\'s "quoted", tab\tand newline\n', 'Ünïcödé beyond twelve bytes: 風力発電', null, 'six six six six',
    'seven seven seven', 'eight eight eight', 'nine nine nine nine', null, 'eleven eleven eleven',
  ]),
  c_date: [['str', '2024-02-29'], nan, ['str', '1970-01-01'], ['str', '9999-12-31'], ['str', '2000-01-01'], nan, ['str', '1900-03-01'], ['str', '2024-01-08'], ['str', '2024-01-09'], nan, ['str', '2024-01-11']],
  c_timestamp: ints('Timestamp', [
    '2024-02-29T23:59:59.123000', null, '1970-01-01T00:00:00', '2038-01-19T03:14:07.999999', null, '2000-01-01T12:00:00.500000', '1899-12-31T23:59:59',
    '2024-01-08T08:08:08.080000', '2024-01-09T09:09:09', null, '2024-01-11T11:11:11.000011',
  ]),
  c_binary: ints('bytes', ['00ff', null, '', '6279746573', null, '736978', '736576656e', '6569676874', '6e696e65', null, '656c6576656e']),
  c_char: ints('str', ['ab        ', null, '          ', 'Zü⚡       ', null, null, 'seven     ', null, null, null, null]),
  c_varchar: ints('str', ['varchar one', null, '', 'Zürich ⚡ 風力', null, null, 'seven', null, null, null, null]),
  c_array: ints('str', ['[1,2,3]', null, '[]', '[null,-2147483648]', null, null, '[7]', null, null, null, null]),
  c_union: ints('str', ['{0:7}', null, '{1:"tab\\tq\\""}', '{1:"Zürich"}', null, null, '{0:-7}', null, null, null, null]),
  c_interval_dt: ints('str', ['1 02:03:04.500000000', null, '-1 00:00:00.000000000', '0 00:00:00.000000000', null, null, '1 12:00:00.000000000', null, null, null, null]),
};

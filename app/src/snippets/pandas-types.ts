/**
 * How pandas reads a column of the connector's CSV so that it comes back with the dtype its Hive
 * type calls for. The rules follow what pandas really does (checked with pandas 1.5 and 2.2 on
 * the connector's own files, test/integration/snippets/):
 *  - TINYINT/SMALLINT/INT read straight into the nullable Int8/Int16/Int32;
 *  - BIGINT is read as text and converted with astype("Int64"): read_csv with dtype "Int64" goes
 *    through float64 when the column has a NULL (pandas < 2), so 9007199254740993 came back as
 *    …992; the text-to-Int64 conversion is exact on every version;
 *  - BOOLEAN reads into "boolean" (true/false with NULL);
 *  - FLOAT/DOUBLE into float32/float64; Hive's NaN is written `NaN`, which pandas parses only as
 *    a missing-value word, so it is listed as one for those columns (NULL and NaN both NaN);
 *  - DECIMAL as text, then decimal.Decimal: exact at any precision (float64 is not);
 *  - DATE/TIMESTAMP as text, then datetime64[ns]: read_csv's parse_dates guesses one format from
 *    the first value on pandas 2 and gives up (text) when a later one has another fraction
 *    length, which Hive's timestamps do; astype parses each value on its own;
 *  - STRING/VARCHAR/CHAR and BINARY (base64 text, then bytes) may hold "", which the CSV tells
 *    apart from NULL only by quoting; every other type's text is never empty, and is kept as
 *    text (complex types as Hive's JSON-like text, intervals, local-time-zone timestamps).
 */

/** What a column needs: the dtype read_csv is given (a Python expression), and what follows. */
export interface PandasColumn {
  name: string;
  /** Python expression for read_csv's dtype: a quoted dtype name, or `str` (object holding text). */
  dtype: string;
  /** May hold an empty string, which the CSV writes as `""` and NULL as an empty field. */
  text: boolean;
  /** Hive writes NaN as `NaN`, which pandas must be told is missing. */
  floating: boolean;
  /** Converted after reading. */
  then: 'int64' | 'decimal' | 'binary' | 'datetime' | null;
}

/** `decimal(38,6)` → `decimal`, `varchar(20)` → `varchar`, `array<int>` → `array`. */
export function baseType(hiveType: string): string {
  return hiveType.trim().toLowerCase().replace(/\s*[(<].*$/s, '');
}

export function pandasColumn(name: string, hiveType: string): PandasColumn {
  const plain = (dtype: string, then: PandasColumn['then'] = null): PandasColumn => ({ name, dtype, text: false, floating: false, then });
  switch (baseType(hiveType)) {
    case 'tinyint':
      return plain('"Int8"');
    case 'smallint':
      return plain('"Int16"');
    case 'int':
    case 'integer':
      return plain('"Int32"');
    case 'bigint':
      return plain('"string"', 'int64');
    case 'boolean':
      return plain('"boolean"');
    case 'float':
      return { ...plain('"float32"'), floating: true };
    case 'double':
    case 'double precision':
      return { ...plain('"float64"'), floating: true };
    case 'decimal':
    case 'numeric':
      return plain('str', 'decimal');
    case 'date':
    case 'timestamp':
      return plain('str', 'datetime');
    case 'binary':
      return { ...plain('"string"', 'binary'), text: true };
    case 'array':
    case 'map':
    case 'struct':
    case 'uniontype':
    case 'interval_year_month':
    case 'interval_day_time':
    case 'timestamp with local time zone':
    case 'void':
      return plain('"string"');
    default:
      // string, varchar, char, and any type this list does not know: text that may be "".
      return { ...plain('"string"'), text: true };
  }
}

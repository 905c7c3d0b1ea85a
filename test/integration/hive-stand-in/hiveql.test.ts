import { describe, expect, it } from 'vitest';
import { translateHiveQl } from '../../../scripts/hive-stand-in/index.js';
import { formatDecimalBigInt, writeDate, writeDecimalNumber, writeTimestampMicros } from '../../../scripts/hive-stand-in/rowset/value-format.js';

// The HiveQL → DuckDB translation and Hive's text forms, on their own (the protocol suites show
// them end to end).
describe('translateHiveQl', () => {
  it.each([
    ['backtick identifiers', 'SELECT `a`.`b c` FROM `enos`.`asset` `a`', 'SELECT "a"."b c" FROM "enos"."asset" "a"'],
    ['escaped backticks and double quotes inside identifiers', 'SELECT `we``ird"name`', 'SELECT "we`ird""name"'],
    ['double-quoted strings become literals', 'SELECT "wind" AS t', "SELECT 'wind' AS t"],
    ['backslash escapes', "SELECT 'it\\'s', \"say \\\"hi\\\"\", 'tab\\there'", "SELECT 'it''s', 'say \"hi\"', 'tab\there'"],
    ['adjacent quoted parts join, as Hive lexes them', "SELECT 'it''s'", "SELECT 'its'"],
    ['LIKE escapes stay escapes', "SELECT 1 WHERE a LIKE '100\\%'", "SELECT 1 WHERE a LIKE '100\\%'"],
    ['backticks inside strings are text', "SELECT 'a `b` c'", "SELECT 'a `b` c'"],
    ['quotes inside comments are left alone', "SELECT 1 -- it's `fine`\nFROM t /* \"x\" 'y */", "SELECT 1 -- it's `fine`\nFROM t /* \"x\" 'y */"],
    ['SORT BY becomes ORDER BY', 'SELECT a FROM t SORT BY a', 'SELECT a FROM t ORDER BY a'],
    ['sort as a name is kept', 'SELECT sort, sorted FROM t', 'SELECT sort, sorted FROM t'],
  ])('%s', (_, hiveql, duckdb) => {
    expect(translateHiveQl(hiveql)).toBe(duckdb);
  });
});

describe("Hive's text forms", () => {
  const written = (write: (buf: Buffer, pos: number) => number): string | undefined => {
    const buf = Buffer.alloc(64);
    const end = write(buf, 0);
    if (end < 0) return undefined;
    expect(buf.readInt32BE(0)).toBe(end - 4); // length prefix matches the text
    return buf.toString('utf8', 4, end);
  };
  const micros = (iso: string, extra = 0) => {
    const value = BigInt(Date.parse(iso)) * 1000n + BigInt(extra);
    return [Number(BigInt.asUintN(32, value)), Number(BigInt.asIntN(32, value >> 32n))] as const;
  };

  it('writes timestamps with the fraction trimmed, and leaves the rest to the slow path', () => {
    expect(written((b, p) => writeTimestampMicros(b, p, ...micros('2024-02-29T23:59:59.123Z')))).toBe('2024-02-29 23:59:59.123');
    expect(written((b, p) => writeTimestampMicros(b, p, ...micros('1970-01-01T00:00:00Z')))).toBe('1970-01-01 00:00:00');
    expect(written((b, p) => writeTimestampMicros(b, p, ...micros('1969-12-31T23:59:59Z', 1)))).toBe('1969-12-31 23:59:59.000001');
    expect(written((b, p) => writeTimestampMicros(b, p, ...micros('1899-12-31T23:59:59.5Z')))).toBe('1899-12-31 23:59:59.5');
    expect(written((b, p) => writeTimestampMicros(b, p, 0xffffffff, 0x7fffffff))).toBeUndefined(); // 'infinity'
  });

  it('writes dates and refuses years Hive cannot print in four digits', () => {
    expect(written((b, p) => writeDate(b, p, 0))).toBe('1970-01-01');
    expect(written((b, p) => writeDate(b, p, 19782))).toBe('2024-02-29');
    expect(written((b, p) => writeDate(b, p, -719529))).toBeUndefined(); // year -1
  });

  it('pads decimals to their scale', () => {
    expect(written((b, p) => writeDecimalNumber(b, p, 1250, 2))).toBe('12.50');
    expect(written((b, p) => writeDecimalNumber(b, p, -5, 2))).toBe('-0.05');
    expect(written((b, p) => writeDecimalNumber(b, p, 0, 3))).toBe('0.000');
    expect(written((b, p) => writeDecimalNumber(b, p, 42, 0))).toBe('42');
    expect(formatDecimalBigInt(-12345678901234567890123456789012123456n, 6)).toBe('-12345678901234567890123456789012.123456');
    expect(formatDecimalBigInt(7n, 4)).toBe('0.0007');
  });
});

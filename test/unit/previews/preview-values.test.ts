/**
 * Preview values from row sets written by thrift's generated code (what HiveServer2 sends), and
 * where a Hive error position lands in the caller's text. The integration test covers the whole
 * path against the stand-in; this covers what the stand-in does not send: decimals Hive left
 * unpadded (results serialized in the tasks), doubles that are not numbers in JSON.
 */
import { describe, expect, it } from 'vitest';
import { decodeWireRowSet } from '../../../app/src/hive/rowset-decoder.js';
import { hiveErrorPosition } from '../../../app/src/hive/hive-error-text.js';
import { TYPE_ID } from '../../../app/src/hive/result-schema.js';
import { callerPosition } from '../../../app/src/previews/preview-service.js';
import { padDecimal, previewRows } from '../../../app/src/previews/preview-values.js';
import { wireRowSet, type TestColumn } from '../../support/thrift-rowsets.js';

/** Null bitmap with the given rows set. */
const nulls = (...rows: number[]) => {
  const bytes = Buffer.alloc(2);
  for (const row of rows) bytes[row >> 3]! |= 1 << (row & 7);
  return bytes;
};

describe('previewRows', () => {
  const columns: TestColumn[] = [
    { boolVal: { values: [true, false, true], nulls: nulls(2) } },
    { byteVal: { values: [-128, 127, 0], nulls: nulls() } },
    { i32Val: { values: [2147483647, 0, 0], nulls: nulls(1) } },
    { i64Val: { values: [9007199254740993n, -9223372036854775808n, 0n], nulls: nulls(2) } },
    { doubleVal: { values: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], nulls: nulls() } },
    { doubleVal: { values: [0.1, -2.5, 1e300], nulls: nulls() } },
    { stringVal: { values: ['12.5', '7', '0.000001'], nulls: nulls() } },
    { stringVal: { values: ['', 'x', ''], nulls: nulls(2) } },
    { binaryVal: { values: [Buffer.from([0, 255]), Buffer.alloc(0), Buffer.from('bytes')], nulls: nulls() } },
  ];
  const schema = [
    { typeId: TYPE_ID.BOOLEAN },
    { typeId: TYPE_ID.TINYINT },
    { typeId: TYPE_ID.INT },
    { typeId: TYPE_ID.BIGINT },
    { typeId: TYPE_ID.DOUBLE },
    { typeId: TYPE_ID.FLOAT },
    { typeId: TYPE_ID.DECIMAL, scale: 6 },
    { typeId: TYPE_ID.STRING },
    { typeId: TYPE_ID.BINARY },
  ];
  const batch = decodeWireRowSet(wireRowSet(columns), columns.length);

  it('types every value for JSON: exact strings for BIGINT and DECIMAL, names for NaN and the infinities, null for NULL only', () => {
    expect(previewRows(schema, batch, 10)).toEqual([
      [true, -128, 2147483647, '9007199254740993', 'NaN', 0.1, '12.500000', '', 'AP8='],
      [false, 127, null, '-9223372036854775808', 'Infinity', -2.5, '7.000000', 'x', ''],
      [null, 0, 0, null, '-Infinity', 1e300, '0.000001', null, 'Ynl0ZXM='],
    ]);
  });

  it('stops at the limit', () => {
    expect(previewRows(schema, batch, 1)).toHaveLength(1);
    expect(previewRows(schema, batch, 0)).toEqual([]);
  });

  it('pads decimals to the scale, never shortens them', () => {
    expect(['12.5', '7', '-0.05', '1.000001', '3.14159265'].map((text) => padDecimal(text, 6))).toEqual(['12.500000', '7.000000', '-0.050000', '1.000001', '3.14159265']);
    expect(padDecimal('42', 0)).toBe('42');
  });
});

describe("Hive's error position in the caller's text", () => {
  it('reads both of Hive compile errors\' forms', () => {
    expect(hiveErrorPosition("Error while compiling statement: FAILED: ParseException line 1:7 cannot recognize input near 'FORM' 'enos' '.' in select clause")).toEqual({ line: 1, charPositionInLine: 7 });
    expect(hiveErrorPosition("Error while compiling statement: FAILED: SemanticException [Error 10001]: Line 3:14 Table not found 'nope'")).toEqual({ line: 3, charPositionInLine: 14 });
    expect(hiveErrorPosition('Error while processing statement: FAILED: Execution Error, return code 2')).toBeUndefined();
  });

  it('maps a position in the statement Hive was sent back to the text the caller wrote', () => {
    const caller = '\n\n   SELECT x\n  FROM enos.asset  ;  -- done';
    const sent = 'SELECT x\n  FROM enos.asset';
    expect(callerPosition(caller, sent, { line: 1, charPositionInLine: 7 })).toEqual({ line: 3, column: 11 });
    expect(callerPosition(caller, sent, { line: 2, charPositionInLine: 2 })).toEqual({ line: 4, column: 3 });
    // A position past the text Hive saw is clamped to its end; a line it never had is no position.
    expect(callerPosition(caller, sent, { line: 2, charPositionInLine: 99 })).toEqual({ line: 4, column: 18 });
    expect(callerPosition(caller, sent, { line: 5, charPositionInLine: 0 })).toBeUndefined();
    expect(callerPosition('SELECT y', 'SELECT x', { line: 1, charPositionInLine: 0 })).toBeUndefined();
  });
});

/**
 * Hive's DATE, TIMESTAMP and DECIMAL text parsed from bytes, against references computed another
 * way (Date.UTC for the calendar, BigInt for the 64-bit arithmetic).
 */
import { describe, expect, it } from 'vitest';
import { daysFromCivil, microsWords, parseDate, parseDecimal, parseTimestamp, type Unscaled } from '../../../app/src/formats/parquet/hive-text.js';

const utf8 = (text: string) => new TextEncoder().encode(`##${text}##`);
/** Parses `text` placed inside a larger buffer, as values sit in a received frame. */
const at = <T>(text: string, parse: (data: Uint8Array, start: number, length: number) => T): T => parse(utf8(text), 2, new TextEncoder().encode(text).length);

const DAY_MS = 86_400_000;
function referenceDays(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // proleptic Gregorian, years below 100 included
  return Math.round(date.getTime() / DAY_MS);
}

const wordsToBigInt = (words: { lo: number; hi: number }) => (BigInt(words.hi) << 32n) + BigInt(words.lo);

describe('dates', () => {
  it('counts days in the proleptic Gregorian calendar over 0001–9999', () => {
    for (let i = 0; i < 5000; i++) {
      const year = 1 + Math.floor(Math.random() * 9999);
      const month = 1 + Math.floor(Math.random() * 12);
      const day = 1 + Math.floor(Math.random() * 28);
      expect([year, month, day, daysFromCivil(year, month, day)]).toEqual([year, month, day, referenceDays(year, month, day)]);
    }
    const text = (y: number, m: number, d: number) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
    for (const [y, m, d] of [[1, 1, 1], [1582, 10, 10], [1899, 12, 31], [1970, 1, 1], [2024, 2, 29], [9999, 12, 31]] as const) {
      expect(at(text(y, m, d), (data, start, length) => parseDate('d', data, start, length))).toBe(referenceDays(y, m, d));
    }
  });

  it('refuses what is not a date, naming the column and the text', () => {
    for (const bad of ['2023-02-29', '2024-13-01', '2024-00-10', '0000-01-01', '2024-1-01', '2024/01/01', '2024-01-01 00:00:00', '']) {
      expect(() => at(bad, (data, start, length) => parseDate('c_date', data, start, length))).toThrow(`column c_date: Hive sent ${JSON.stringify(bad)} where a date YYYY-MM-DD was expected`);
    }
  });
});

describe('timestamps', () => {
  it('writes exact INT64 microseconds, beyond 2^53 too', () => {
    const words = { lo: 0, hi: 0 };
    for (let i = 0; i < 20_000; i++) {
      const seconds = Math.floor((Math.random() * 2 - 1) * 2.6e11);
      const micros = Math.floor(Math.random() * 1e6);
      microsWords(seconds, micros, words);
      expect(wordsToBigInt(words)).toBe(BigInt(seconds) * 1_000_000n + BigInt(micros));
    }
  });

  it('parses Hive text: fractions of 1–9 digits (truncated to µs), Hive 2.3 .0, 0001 to 9999', () => {
    const cases: [string, bigint][] = [
      ['1970-01-01 00:00:00', 0n],
      ['1970-01-01 00:00:00.0', 0n],
      ['1969-12-31 23:59:59.999999999', -1n],
      ['2024-02-29 23:59:59.123', BigInt(Date.UTC(2024, 1, 29, 23, 59, 59, 123)) * 1000n],
      ['2000-01-01 12:00:00.5', BigInt(Date.UTC(2000, 0, 1, 12)) * 1000n + 500_000n],
      ['2024-01-11 11:11:11.000011', BigInt(Date.UTC(2024, 0, 11, 11, 11, 11)) * 1000n + 11n],
      ['1899-12-31 23:59:59', BigInt(Date.UTC(1899, 11, 31, 23, 59, 59)) * 1000n],
      ['9999-12-31 23:59:59.999999999', 253_402_300_799_999_999n],
      ['0001-01-01 00:00:00', -62_135_596_800_000_000n],
    ];
    const words = { lo: 0, hi: 0 };
    for (const [text, micros] of cases) {
      at(text, (data, start, length) => parseTimestamp('ts', data, start, length, words));
      expect([text, wordsToBigInt(words)]).toEqual([text, micros]);
    }
  });

  it('refuses what is not a Hive timestamp', () => {
    const words = { lo: 0, hi: 0 };
    for (const bad of ['2024-01-01T00:00:00', '2024-01-01 24:00:00', '2024-01-01 00:60:00', '2024-01-01 00:00:60', '2024-01-01 00:00:00.', '2024-01-01 00:00:00.1234567890', '2024-02-30 00:00:00', '2024-01-01', '2024-01-01 00:00:00 UTC']) {
      expect(() => at(bad, (data, start, length) => parseTimestamp('c_ts', data, start, length, words))).toThrow(/^column c_ts: Hive sent .* where a timestamp YYYY-MM-DD HH:MM:SS\[\.fffffffff\] was expected$/);
    }
  });
});

describe('decimals', () => {
  const unscaled = (text: string, precision: number, scale: number): bigint => {
    const out: Unscaled = { small: 0, big: undefined };
    at(text, (data, start, length) => parseDecimal('c_dec', precision, scale, data, start, length, out));
    if (out.big === undefined) {
      expect(Number.isSafeInteger(out.small)).toBe(true);
      return BigInt(out.small);
    }
    return out.big;
  };

  it('scales padded and unpadded text exactly', () => {
    expect(unscaled('12.50', 10, 2)).toBe(1250n);
    expect(unscaled('12.5', 10, 2)).toBe(1250n);
    expect(unscaled('12', 10, 2)).toBe(1200n);
    expect(unscaled('-0.05', 10, 2)).toBe(-5n);
    expect(unscaled('0', 38, 6)).toBe(0n);
    expect(unscaled('-0.000', 10, 3)).toBe(0n);
    expect(unscaled('99999999999999999999999999999999.999999', 38, 6)).toBe(10n ** 38n - 1n);
    expect(unscaled('-99999999999999999999999999999999.999999', 38, 6)).toBe(-(10n ** 38n - 1n));
    expect(unscaled('12.5', 38, 6)).toBe(12_500_000n);
    expect(unscaled('123456789012345678', 18, 0)).toBe(123_456_789_012_345_678n);
    expect(unscaled('9007199254740993', 38, 0)).toBe(9_007_199_254_740_993n);
    expect(unscaled('0.000001', 38, 6)).toBe(1n);
  });

  it('refuses text that does not fit the type, rather than rounding it', () => {
    const parse = (text: string, precision: number, scale: number) => () => unscaled(text, precision, scale);
    expect(parse('1.234', 10, 2)).toThrow('column c_dec: Hive sent "1.234" where a decimal(10,2) (at most 2 fraction digits, 10 digits in all) was expected');
    expect(parse('123456789.5', 10, 2)).toThrow(/decimal\(10,2\)/);
    expect(parse('1e5', 10, 2)).toThrow('column c_dec: Hive sent "1e5" where a decimal(10,2) was expected');
    for (const bad of ['', '-', '.5', '1.', '1.2.3', '+1', ' 1', 'NaN']) expect(parse(bad, 10, 2)).toThrow(/^column c_dec: Hive sent/);
  });
});

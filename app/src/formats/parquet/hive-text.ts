/**
 * Hive sends DATE, TIMESTAMP and DECIMAL as text (TColumn stringVal). These parse that text
 * straight from its UTF-8 bytes, exactly, without building a JS string per value:
 *  - DATE `YYYY-MM-DD` → days since 1970-01-01 in the proleptic Gregorian calendar, which is how
 *    Hive 3.1+ prints dates (java.time, HIVE-20007) and how Parquet readers count DATE; the text a
 *    user saw in Hive reads back unchanged, also before 1582.
 *  - TIMESTAMP `YYYY-MM-DD HH:MM:SS[.f…]` (1–9 fraction digits; Hive 2.3 adds `.0` to whole
 *    seconds) → microseconds since 1970-01-01 00:00:00 as wall-clock time (no zone: Hive
 *    TIMESTAMP is a local date-time). Digits past the sixth are dropped (truncation, never
 *    rounding): a rounded value could move into the next second, day or even past 9999-12-31,
 *    and Parquet's TIMESTAMP(MICROS) is what pandas, Spark and DuckDB read without loss of range.
 *  - DECIMAL `-123.45` (HiveServer2 pads the fraction to the scale in columnar results, a result
 *    serialized in the tasks may not be) → the unscaled integer for the column's scale.
 * Years are 0001–9999 (Hive's range). Anything else is an Error naming the column and the text:
 * an export never writes a value it did not understand.
 */

const ZERO = 0x30;
const decoder = new TextDecoder('utf-8', { fatal: false });

export function textOf(data: Uint8Array, start: number, length: number): string {
  return decoder.decode(data.subarray(start, start + length));
}

function badValue(column: string, expected: string, data: Uint8Array, start: number, length: number): Error {
  return new Error(`column ${column}: Hive sent ${JSON.stringify(textOf(data, start, length))} where ${expected} was expected`);
}

/** Value of `count` ASCII digits at `at`, or -1 if any is not a digit. */
function digits(data: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = data[i]! - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Days of `YYYY-MM-DD` at `start`, or NaN when the 10 bytes there are not a valid date. */
function parseDays(data: Uint8Array, start: number): number {
  const year = digits(data, start, 4);
  const month = digits(data, start + 5, 2);
  const day = digits(data, start + 8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || data[start + 4] !== 0x2d || data[start + 7] !== 0x2d) return NaN;
  const monthDays = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day > monthDays ? NaN : daysFromCivil(year, month, day);
}

export function parseDate(column: string, data: Uint8Array, start: number, length: number): number {
  const days = length === 10 ? parseDays(data, start) : NaN;
  if (Number.isNaN(days)) throw badValue(column, 'a date YYYY-MM-DD', data, start, length);
  return days;
}

/**
 * The two 32-bit words of an INT64 of microseconds: `lo` unsigned, `hi` signed, so 9999-12-31
 * (beyond 2^53 µs) stays exact without a BigInt per value.
 */
export interface Int64Words {
  lo: number;
  hi: number;
}

const TWO_32 = 2 ** 32;

/** seconds * 10^6 + micros as exact INT64 words (|seconds| < 2^38, 0 ≤ micros < 10^6). */
export function microsWords(seconds: number, micros: number, out: Int64Words): void {
  // Within ±2^53 µs (the years 1685–2254) the product is exact as a double.
  if (seconds > -9e9 && seconds < 9e9) {
    const total = seconds * 1e6 + micros;
    const hi = Math.floor(total / TWO_32);
    out.hi = hi;
    out.lo = total - hi * TWO_32;
    return;
  }
  // seconds = sHi·2^20 + sLo, so total = (sHi·10^6)·2^20 + (sLo·10^6 + micros), each part exact.
  const sHi = Math.floor(seconds / 1048576);
  const sLo = seconds - sHi * 1048576;
  const a = sHi * 1e6;
  const aHi = Math.floor(a / 4096);
  const aLo = a - aHi * 4096;
  const t = aLo * 1048576 + sLo * 1e6 + micros;
  const tHi = Math.floor(t / TWO_32);
  out.hi = aHi + tHi;
  out.lo = t - tHi * TWO_32;
}

export function parseTimestamp(column: string, data: Uint8Array, start: number, length: number, out: Int64Words): void {
  const days = length >= 19 ? parseDays(data, start) : NaN;
  const hour = digits(data, start + 11, 2);
  const minute = digits(data, start + 14, 2);
  const second = digits(data, start + 17, 2);
  let micros = 0;
  let ok = !Number.isNaN(days) && data[start + 10] === 0x20 && data[start + 13] === 0x3a && data[start + 16] === 0x3a &&
    hour >= 0 && hour < 24 && minute >= 0 && minute < 60 && second >= 0 && second < 60;
  if (ok && length > 19) {
    const fraction = length - 20;
    ok = data[start + 19] === 0x2e && fraction >= 1 && fraction <= 9 && digits(data, start + 20, fraction) >= 0;
    if (ok) {
      const kept = Math.min(fraction, 6);
      micros = digits(data, start + 20, kept) * 10 ** (6 - kept);
    }
  }
  if (!ok) throw badValue(column, 'a timestamp YYYY-MM-DD HH:MM:SS[.fffffffff]', data, start, length);
  microsWords(days * 86400 + hour * 3600 + minute * 60 + second, micros, out);
}

/** A parsed decimal: the unscaled value as a number when it is a safe integer, else as a bigint. */
export interface Unscaled {
  small: number;
  big: bigint | undefined;
}

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * `text` scaled to `scale` digits, checked against `precision`. Hive's own values never exceed
 * either; an Error rather than a rounded or wrapped value if one ever does.
 */
export function parseDecimal(column: string, precision: number, scale: number, data: Uint8Array, start: number, length: number, out: Unscaled): void {
  const end = start + length;
  let i = start;
  const negative = data[i] === 0x2d;
  if (negative) i++;
  let significant = 0;
  let fraction = -1;
  let value = 0;
  let any = false;
  for (; i < end; i++) {
    const c = data[i]!;
    if (c === 0x2e && fraction < 0 && any) {
      fraction = 0;
      continue;
    }
    const d = c - ZERO;
    if (d < 0 || d > 9) throw badValue(column, `a decimal(${precision},${scale})`, data, start, length);
    any = true;
    if (fraction >= 0) fraction++;
    if (significant > 0 || d !== 0) significant++;
    if (significant <= 15) value = value * 10 + d;
  }
  if (!any || fraction === 0) throw badValue(column, `a decimal(${precision},${scale})`, data, start, length);
  const fractionDigits = Math.max(fraction, 0);
  const pad = scale - fractionDigits;
  if (pad < 0 || significant + (significant > 0 ? pad : 0) > precision) {
    throw badValue(column, `a decimal(${precision},${scale}) (at most ${scale} fraction digits, ${precision} digits in all)`, data, start, length);
  }
  if (significant === 0) {
    out.small = 0;
    out.big = undefined;
    return;
  }
  if (significant + pad <= 15) {
    const scaled = value * POW10[pad]!;
    out.small = negative && scaled !== 0 ? -scaled : scaled;
    out.big = undefined;
    return;
  }
  let text = textOf(data, start, length).replace('.', '');
  text += '0'.repeat(pad);
  out.big = BigInt(text);
  out.small = NaN;
}

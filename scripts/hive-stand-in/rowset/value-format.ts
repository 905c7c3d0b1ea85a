/**
 * Hive's text forms of DATE, TIMESTAMP and DECIMAL values, written as ASCII straight into the
 * output buffer (no intermediate strings: these run once per cell on millions of rows).
 *  - DATE 'YYYY-MM-DD'
 *  - TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.fffffffff]' with trailing zeros of the fraction dropped
 *  - DECIMAL padded to the column's scale ('12.50', '-0.05'), as Hive does since 2.1
 * Each writer returns the new position, or -1 when the value is outside the fast path (years
 * outside 0000-9999, or integers beyond 2^53) and the caller must use the slow, general path.
 */

const MICROS_PER_DAY = 86_400_000_000;
const TWO_POW_32 = 4_294_967_296;
/** The high word of an int64 below which hi * 2^32 + lo is an exact double. */
const SAFE_HIGH_WORD = 2 ** 21;

/** Days since 1970-01-01 → civil date (Howard Hinnant's days_from_civil, inverted). */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function put2(buf: Buffer, pos: number, value: number): void {
  buf[pos] = 48 + Math.floor(value / 10);
  buf[pos + 1] = 48 + (value % 10);
}

/** Time series repeat the same day row after row: the last day's text is kept and copied. */
let cachedDays = Number.NaN;
const cachedDate = Buffer.alloc(10);

function putDate(buf: Buffer, pos: number, days: number): boolean {
  if (days !== cachedDays) {
    const [year, month, day] = civilFromDays(days);
    if (year < 0 || year > 9999) return false;
    put2(cachedDate, 0, Math.floor(year / 100));
    put2(cachedDate, 2, year % 100);
    cachedDate[4] = 45; // -
    put2(cachedDate, 5, month);
    cachedDate[7] = 45;
    put2(cachedDate, 8, day);
    cachedDays = days;
  }
  // Unrolled: a 10-byte loop costs three times as much on this per-cell path.
  buf[pos] = cachedDate[0]!;
  buf[pos + 1] = cachedDate[1]!;
  buf[pos + 2] = cachedDate[2]!;
  buf[pos + 3] = cachedDate[3]!;
  buf[pos + 4] = cachedDate[4]!;
  buf[pos + 5] = cachedDate[5]!;
  buf[pos + 6] = cachedDate[6]!;
  buf[pos + 7] = cachedDate[7]!;
  buf[pos + 8] = cachedDate[8]!;
  buf[pos + 9] = cachedDate[9]!;
  return true;
}

/**
 * A value's 4-byte big-endian length prefix, by hand: on these per-cell paths Buffer#writeInt32BE's
 * checks cost more than the value they prefix.
 */
export function putLength(buf: Buffer, pos: number, length: number): void {
  buf[pos] = length >>> 24;
  buf[pos + 1] = (length >>> 16) & 255;
  buf[pos + 2] = (length >>> 8) & 255;
  buf[pos + 3] = length & 255;
}

/** Writes a length-prefixed 'YYYY-MM-DD'; needs 14 bytes of room. */
export function writeDate(buf: Buffer, pos: number, days: number): number {
  if (!putDate(buf, pos + 4, days)) return -1;
  putLength(buf, pos, 10);
  return pos + 14;
}

/**
 * Writes a length-prefixed timestamp from microseconds since the epoch; needs 33 bytes of room.
 * `alwaysFraction`: write `.0` for a whole second (java.sql.Timestamp.toString, Hive 2.3).
 */
export function writeTimestampMicros(buf: Buffer, pos: number, low: number, high: number, alwaysFraction = false): number {
  if (high >= SAFE_HIGH_WORD || high < -SAFE_HIGH_WORD) return -1;
  const micros = high * TWO_POW_32 + low;
  let days = Math.floor(micros / MICROS_PER_DAY);
  let inDay = micros - days * MICROS_PER_DAY;
  // The division is rounded; the subtraction is exact, so it corrects a day that rounded over.
  if (inDay < 0) {
    days--;
    inDay += MICROS_PER_DAY;
  } else if (inDay >= MICROS_PER_DAY) {
    days++;
    inDay -= MICROS_PER_DAY;
  }
  const start = pos + 4;
  if (!putDate(buf, start, days)) return -1;
  // Below a day everything fits in int32 arithmetic (86,400 seconds, 10^6 microseconds): `| 0`
  // keeps V8 on integer operations instead of doubles, a 4× difference on this hot path.
  const seconds = Math.floor(inDay / 1_000_000) | 0;
  let fraction = (inDay - seconds * 1_000_000) | 0;
  const hours = (seconds / 3600) | 0;
  const minutes = ((seconds / 60) | 0) % 60;
  buf[start + 10] = 32; // space
  buf[start + 11] = 48 + ((hours / 10) | 0);
  buf[start + 12] = 48 + (hours % 10);
  buf[start + 13] = 58; // :
  buf[start + 14] = 48 + ((minutes / 10) | 0);
  buf[start + 15] = 48 + (minutes % 10);
  buf[start + 16] = 58;
  const secs = seconds % 60;
  buf[start + 17] = 48 + ((secs / 10) | 0);
  buf[start + 18] = 48 + (secs % 10);
  let end = start + 19;
  if (fraction !== 0) {
    let digits = 6;
    while (fraction % 10 === 0) {
      fraction = (fraction / 10) | 0;
      digits--;
    }
    buf[end] = 46; // .
    for (let d = digits; d > 0; d--) {
      buf[end + d] = 48 + (fraction % 10);
      fraction = (fraction / 10) | 0;
    }
    end += digits + 1;
  } else if (alwaysFraction) {
    buf[end] = 46; // .
    buf[end + 1] = 48; // 0
    end += 2;
  }
  putLength(buf, pos, end - start);
  return end;
}

/** Room a decimal of `precision` digits needs: length, sign, digits, point, leading zero. */
export function decimalRoom(precision: number): number {
  return 4 + precision + 3;
}

/** Writes a length-prefixed decimal from an unscaled integer that is exact as a double. */
export function writeDecimalNumber(buf: Buffer, pos: number, unscaled: number, scale: number): number {
  const start = pos + 4;
  let p = start;
  let magnitude = unscaled;
  if (unscaled < 0) {
    buf[p++] = 45; // -
    magnitude = -unscaled;
  }
  // Digits of the magnitude, at least scale + 1 of them so there is always a leading 0.
  let digits = 1;
  for (let m = magnitude; m >= 10; m = Math.floor(m / 10)) digits++;
  if (digits < scale + 1) digits = scale + 1;
  const total = scale > 0 ? digits + 1 : digits;
  let q = p + total - 1;
  for (let i = 0; i < digits; i++) {
    if (scale > 0 && i === scale) buf[q--] = 46; // .
    buf[q--] = 48 + (magnitude % 10);
    magnitude = Math.floor(magnitude / 10);
  }
  p += total;
  buf.writeInt32BE(p - start, pos);
  return p;
}

/** The general path: any unscaled integer, through BigInt text. */
export function formatDecimalBigInt(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale === 0) return (negative ? '-' : '') + digits;
  digits = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** An int64 given as [low uint32, high int32] as a Number, or undefined when that would not be exact. */
export function exactInt64(low: number, high: number): number | undefined {
  return high < SAFE_HIGH_WORD && high >= -SAFE_HIGH_WORD ? high * TWO_POW_32 + low : undefined;
}

/**
 * Hive sends a FLOAT as the double parsed from Float.toString(value), i.e. the shortest decimal
 * that reads back as the same float (3.4e38, not 3.3999999521443642e38).
 */
export function floatAsHiveDouble(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const known = shortestFloats.get(value);
  if (known !== undefined) return known;
  let shortest = value;
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) {
      shortest = candidate;
      break;
    }
  }
  // Columns repeat values; the search costs up to nine toPrecision calls, so remember some.
  if (shortestFloats.size >= 65_536) shortestFloats.clear();
  shortestFloats.set(value, shortest);
  return shortest;
}

const shortestFloats = new Map<number, number>();

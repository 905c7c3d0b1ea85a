/**
 * The text HiveServer2 sends for values it has no typed TColumn for, built from DuckDB values:
 *  - ARRAY/MAP/STRUCT/UNION: SerDeUtils.buildJSONString — strings, CHAR/VARCHAR, DATE and
 *    TIMESTAMP quoted (strings through SerDeUtils.escapeString), numbers as Java prints them
 *    (Double.toString: `1.0`, `1.0E300`), DECIMAL as HiveDecimal.toString (no padding),
 *    BINARY as raw bytes, map keys as values (so an int key is unquoted), a union as
 *    `{tag:value}`, a NULL inside as `null`. Nested timestamps print through
 *    TimestampWritable.toString, which drops a `.0` fraction in every version.
 *  - INTERVAL YEAR TO MONTH `Y-M`, INTERVAL DAY TO SECOND `D HH:MM:SS.nnnnnnnnn`
 *    (HiveIntervalYearMonth / HiveIntervalDayTime.toString).
 *  - TIMESTAMP WITH LOCAL TIME ZONE: TimestampTZ.toString, `yyyy-MM-dd HH:mm:ss.f… <zone id>`.
 */
import {
  DuckDBBlobValue, DuckDBDateValue, DuckDBDecimalValue, DuckDBIntervalValue, DuckDBListValue, DuckDBMapValue, DuckDBStructValue,
  DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTypeId, DuckDBUnionValue, type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import { formatDecimalBigInt } from './value-format.js';

/** SerDeUtils.escapeString. */
export function escapeHiveJson(text: string): string {
  let out = '';
  for (const c of text) {
    switch (c) {
      case '"':
      case '\\':
        out += `\\${c}`;
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default:
        out += c < ' ' ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c;
    }
  }
  return out;
}

/**
 * Java's Double.toString: shortest digits; plain notation with at least one fraction digit for
 * 1e-3 ≤ |x| < 1e7, else `d.dddE±n`.
 */
export function javaDoubleText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** Java's Float.toString: the shortest decimal that reads back as the same float. */
export function javaFloatText(value: number): string {
  if (!Number.isFinite(value) || value === 0) return javaDoubleText(value);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return javaDoubleText(candidate);
  }
  return javaDoubleText(value);
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** HiveDecimal.toString: the value without trailing fraction zeros. */
function decimalText(value: DuckDBDecimalValue): string {
  const text = formatDecimalBigInt(value.value, value.scale);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** `yyyy-MM-dd HH:mm:ss` plus the fraction without trailing zeros; `.0` when `alwaysFraction` and none. */
export function timestampText(micros: bigint, alwaysFraction: boolean): string {
  const MICROS_PER_DAY = 86_400_000_000n;
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const date = new Date(Number(days) * 86_400_000);
  const seconds = Number(rest / 1_000_000n);
  const fraction = Number(rest % 1_000_000n);
  const base = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  if (fraction === 0) return alwaysFraction ? `${base}.0` : base;
  return `${base}.${pad(fraction, 6).replace(/0+$/, '')}`;
}

export function intervalYearMonthText(months: number): string {
  const sign = months < 0 ? '-' : '';
  const total = Math.abs(months);
  return `${sign}${Math.floor(total / 12)}-${total % 12}`;
}

/** Days and micros normalised together, as HiveIntervalDayTime keeps them. */
export function intervalDayTimeText(days: number, micros: bigint): string {
  let total = BigInt(days) * 86_400_000_000n + micros;
  const sign = total < 0n ? '-' : '';
  if (total < 0n) total = -total;
  const d = total / 86_400_000_000n;
  let rest = total % 86_400_000_000n;
  const hours = rest / 3_600_000_000n;
  rest %= 3_600_000_000n;
  const minutes = rest / 60_000_000n;
  rest %= 60_000_000n;
  const seconds = rest / 1_000_000n;
  const nanos = (rest % 1_000_000n) * 1000n;
  return `${sign}${d} ${pad(Number(hours), 2)}:${pad(Number(minutes), 2)}:${pad(Number(seconds), 2)}.${pad(Number(nanos), 9)}`;
}

/**
 * TimestampTZ.toString in the session's zone (the stand-in's zone is UTC): TimestampTZUtil's
 * FORMATTER has appendFraction(NANO_OF_SECOND, 1, 9, true), so a whole second still shows `.0`.
 */
export function timestampLocalTzText(micros: bigint, zone: string): string {
  return `${timestampText(micros, true)} ${zone}`;
}

/** A top-level value of a column Hive sends as text; `hiveType` refines DuckDB's type where Hive's differs. */
export function hiveValueText(value: DuckDBValue, type: DuckDBType, hiveType: string | undefined, zone: string): string {
  if (hiveType?.startsWith('char(')) return String(value).padEnd(Number(/\d+/.exec(hiveType)![0]), ' ');
  if (value instanceof DuckDBIntervalValue) {
    return hiveType === 'interval_year_month' ? intervalYearMonthText(value.months) : intervalDayTimeText(value.days, value.micros);
  }
  if (value instanceof DuckDBTimestampTZValue) return timestampLocalTzText(value.micros, zone);
  return hiveJsonText(value, type);
}

/** SerDeUtils.buildJSONString for a value of DuckDB type `type`. */
export function hiveJsonText(value: DuckDBValue, type: DuckDBType): string {
  if (value === null) return 'null';
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = (type as unknown as { valueType: DuckDBType }).valueType;
      return `[${(value as DuckDBListValue).items.map((item) => hiveJsonText(item, element)).join(',')}]`;
    }
    case DuckDBTypeId.MAP: {
      const { keyType, valueType } = type as unknown as { keyType: DuckDBType; valueType: DuckDBType };
      return `{${(value as DuckDBMapValue).entries.map((e) => `${hiveJsonText(e.key, keyType)}:${hiveJsonText(e.value, valueType)}`).join(',')}}`;
    }
    case DuckDBTypeId.STRUCT: {
      const { entryNames, entryTypes } = type as unknown as { entryNames: string[]; entryTypes: DuckDBType[] };
      const entries = (value as DuckDBStructValue).entries;
      return `{${entryNames.map((name, i) => `"${name}":${hiveJsonText(entries[name] ?? null, entryTypes[i]!)}`).join(',')}}`;
    }
    case DuckDBTypeId.UNION: {
      const { memberTags, memberTypes } = type as unknown as { memberTags: string[]; memberTypes: DuckDBType[] };
      const union = value as DuckDBUnionValue;
      const tag = memberTags.indexOf(union.tag);
      return `{${tag}:${hiveJsonText(union.value, memberTypes[tag]!)}}`;
    }
    case DuckDBTypeId.FLOAT:
      return javaFloatText(value as number);
    case DuckDBTypeId.DOUBLE:
      return javaDoubleText(value as number);
    case DuckDBTypeId.VARCHAR:
      return `"${escapeHiveJson(String(value))}"`;
    case DuckDBTypeId.DATE:
      return `"${(value as DuckDBDateValue).toString()}"`;
    case DuckDBTypeId.TIMESTAMP:
      return `"${timestampText((value as DuckDBTimestampValue).micros, false)}"`;
    case DuckDBTypeId.DECIMAL:
      return decimalText(value as DuckDBDecimalValue);
    case DuckDBTypeId.BLOB:
      return Buffer.from((value as DuckDBBlobValue).bytes).toString('utf8');
    case DuckDBTypeId.INTERVAL: {
      const interval = value as DuckDBIntervalValue;
      return interval.months !== 0 ? intervalYearMonthText(interval.months) : intervalDayTimeText(interval.days, interval.micros);
    }
    default:
      return String(value);
  }
}

/**
 * The small HiveQL → DuckDB SQL translation that lets queries written for Hive run as written:
 *  - `backtick` identifiers become "double-quoted" identifiers;
 *  - Hive string literals ('…' and "…", backslash escapes, adjacent parts joined) become
 *    standard '…' literals, so a double-quoted Hive string is not taken for an identifier;
 *  - SORT BY becomes ORDER BY (one reducer here, so the per-reducer order is the total order).
 * Comments and everything else pass through untouched; it is a lexer, not a parser, so it never
 * rewrites text inside literals or comments.
 */

/** Hive's escapes inside string literals (see Hive's BaseSemanticAnalyzer.unescapeSQLString). */
const ESCAPES: Record<string, string> = {
  '0': '\0', "'": "'", '"': '"', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\u001a', '\\': '\\',
  // Kept escaped so LIKE patterns still mean a literal % or _.
  '%': '\\%', _: '\\_',
};

export function translateHiveQl(hiveql: string): string {
  let out = '';
  let i = 0;
  const n = hiveql.length;
  while (i < n) {
    const c = hiveql[i]!;
    if (c === '-' && hiveql[i + 1] === '-') {
      const end = hiveql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += hiveql.slice(i, stop);
      i = stop;
    } else if (c === '/' && hiveql[i + 1] === '*') {
      const end = hiveql.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += hiveql.slice(i, stop);
      i = stop;
    } else if (c === '`') {
      const [name, next] = readBacktickIdentifier(hiveql, i);
      out += `"${name.replaceAll('"', '""')}"`;
      i = next;
    } else if (c === "'" || c === '"') {
      // Hive's lexer makes one literal of adjacent quoted parts: 'it''s' is "its", not "it's".
      let value = '';
      while (hiveql[i] === "'" || hiveql[i] === '"') {
        const [part, next] = readHiveString(hiveql, i);
        value += part;
        i = next;
      }
      out += `'${value.replaceAll("'", "''")}'`;
    } else if (isWordStart(c)) {
      let end = i + 1;
      while (end < n && isWordPart(hiveql[end]!)) end++;
      const word = hiveql.slice(i, end);
      out += word.toUpperCase() === 'SORT' && /^\s+BY\b/i.test(hiveql.slice(end)) ? 'ORDER' : word;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** `` `a``b` `` is the identifier a`b; an unterminated one runs to the end, and DuckDB reports it. */
function readBacktickIdentifier(text: string, start: number): [string, number] {
  let name = '';
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '`') {
      if (text[i + 1] === '`') {
        name += '`';
        i += 2;
        continue;
      }
      return [name, i + 1];
    }
    name += text[i];
    i++;
  }
  return [name, i];
}

function readHiveString(text: string, start: number): [string, number] {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      value += ESCAPES[next] ?? next;
      i += 2;
    } else if (c === quote) {
      return [value, i + 1];
    } else {
      value += c;
      i++;
    }
  }
  return [value, i];
}

const isWordStart = (c: string) => /[A-Za-z_]/.test(c);
const isWordPart = (c: string) => /[A-Za-z0-9_$]/.test(c);

/**
 * Python string literals for generated code. Column names and URLs come from users and from
 * storage; whatever they hold (quotes, backslashes, newlines, invisible or bidirectional control
 * characters, unpaired surrogates), the literal must be valid Python that evaluates to exactly
 * that text, and must read on screen as what it is.
 */

/** Characters written as escapes: controls, format characters (bidi overrides, zero width), separators other than the space, surrogates, private and unassigned code points. */
const ESCAPED = /[\p{C}\p{Z}]/u;

const SHORT: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A double-quoted Python `str` literal of `text`. */
export function pythonString(text: string): string {
  let literal = '"';
  // for…of walks code points; an unpaired surrogate comes through on its own.
  for (const char of text) {
    const short = SHORT[char];
    if (short !== undefined) literal += short;
    else if (char !== ' ' && ESCAPED.test(char)) literal += escapeCodePoint(char.codePointAt(0)!);
    else literal += char;
  }
  return `${literal}"`;
}

function escapeCodePoint(codePoint: number): string {
  if (codePoint <= 0xff) return `\\x${codePoint.toString(16).padStart(2, '0')}`;
  if (codePoint <= 0xffff) return `\\u${codePoint.toString(16).padStart(4, '0')}`;
  return `\\U${codePoint.toString(16).padStart(8, '0')}`;
}

/**
 * Python string literals of column names and URLs: Python itself (ast.literal_eval in Debian's
 * python3) must read each back as exactly the text it came from, and nothing invisible or
 * line-breaking may appear raw in the generated code.
 */
import { describe, expect, it } from 'vitest';
import { pythonString } from '../../../app/src/snippets/python-literal.js';
import { runPythonScript } from '../../support/debian-python.js';

const NASTY = [
  '',
  'plain',
  'we"ird',
  "it's",
  'back\\slash',
  'trailing backslash\\',
  '\\"',
  '"""',
  "'''",
  'line\nbreak\r\nand\ttab',
  '\u0000nul and \u0007bell and \u007fdel',
  '\u0085next line \u2028line sep \u2029para sep',
  '\u202eright-to-left override\u202c and \u200bzero width and \ufeffBOM',
  '\u00a0no-break space and \u3000ideographic space',
  'Zürich ⚡ 風力 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀',
  'lone \ud800 high and \udfff low surrogate',
  '{braces} and %s and $dollar',
  '\\N{BULLET} stays text',
  'https://acct.blob.core.windows.net/c/x.csv?sv=2024&sig=a%2Bb%3D&se="x"',
];

describe('pythonString', () => {
  it('makes literals that Python reads back as exactly the original text', async () => {
    // Each literal on a line of its own, read by Python's own parser.
    const literals = NASTY.map(pythonString).join('\n');
    const out = await runPythonScript(`import ast, json, sys\nprint(json.dumps([ast.literal_eval(line) for line in sys.argv[1].split("\\n")]))`, { args: [literals] });
    expect(JSON.parse(out)).toEqual(NASTY);
  });

  it('writes no control, format or separator character raw, and keeps readable unicode as it is', () => {
    for (const text of NASTY) expect(pythonString(text)).not.toMatch(/[\p{C}\u0085\u00a0\u2028\u2029\u3000]/u);
    expect(pythonString('Zürich ⚡ 風力')).toBe('"Zürich ⚡ 風力"');
    expect(pythonString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(pythonString('\u202e')).toBe('"\\u202e"');
    expect(pythonString('\u0000')).toBe('"\\x00"');
    expect(pythonString('\u{e0001}')).toBe('"\\U000e0001"');
  });
});

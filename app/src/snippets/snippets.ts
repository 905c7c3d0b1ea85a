/**
 * The code shown beside an export's URL: pandas code that reads it with every column typed from
 * the result's Hive schema, and the Azure ML (SDK v2) job input. Pure functions of the job's
 * JSON, so the API, the page and the tests see the same text.
 *
 * CSV in pandas needs more than one read_csv call to be faithful (the reasons are in
 * pandas-types.ts): the connector writes NULL as an empty field and "" as `""`, and no
 * read_csv option tells the two apart (its tokenizer drops the quotes before the missing-value
 * check), so when a column can hold "" the code swaps each `""` field for a byte UTF-8 never
 * holds (0xFF) before parsing, reads with surrogateescape, and turns that one character back
 * into "". A one-column result is the exception: there NULL is written `""` too (an empty line
 * would be skipped by readers), so both read as missing.
 */
import { pandasColumn, type PandasColumn } from './pandas-types.js';
import { pythonString } from './python-literal.js';

export type SnippetFormat = 'csv' | 'csv.gz' | 'parquet';

/** What the snippets are made from: the fields of a succeeded job's JSON. */
export interface SnippetSource {
  format: SnippetFormat;
  schema: readonly { name: string; type: string }[] | null;
  /** A single-part export's URL. */
  downloadUrl?: string | null;
  /** Every part, in order (one entry for a single-part export). */
  files?: readonly { url: string }[] | null;
  /** The MLTable file listing the parts, when there are several. */
  mltableUrl?: string | null;
}

export interface Snippets {
  pandas: string;
  azureml: string;
}

const INDENT = '    ';

/** The parts' URLs: `files` when the job has them, else the one download URL. */
export function partUrls(source: SnippetSource): string[] {
  if (source.files && source.files.length > 0) return source.files.map((file) => file.url);
  return source.downloadUrl ? [source.downloadUrl] : [];
}

/** Snippets for a succeeded export; null when it has no URL to read (nothing to show). */
export function snippetsFor(source: SnippetSource): Snippets | null {
  const urls = partUrls(source);
  if (urls.length === 0) return null;
  return { pandas: pandasSnippet(source.format, source.schema, urls), azureml: azureMlSnippet(urls, source.mltableUrl ?? null) };
}

export function azureMlSnippet(urls: readonly string[], mltableUrl: string | null): string {
  const lines = ['# Azure ML (SDK v2): the export as a job input. The URL needs no credentials until it expires.', 'from azure.ai.ml import Input', ''];
  if (urls.length > 1 && mltableUrl) {
    lines.push(
      `# ${urls.length} parts, listed in one MLTable file: a table input reads them all.`,
      `data = Input(type="mltable", path=${pythonString(mltableUrl)})`,
    );
  } else {
    for (const [i, url] of urls.entries()) lines.push(`data${urls.length > 1 ? `_${i + 1}` : ''} = Input(type="uri_file", path=${pythonString(url)})`);
  }
  lines.push('', '# In the job, read the file(s) as the pandas snippet does.');
  return lines.join('\n');
}

export function pandasSnippet(format: SnippetFormat, schema: SnippetSource['schema'], urls: readonly string[]): string {
  if (format === 'parquet') return parquetSnippet(urls);
  return csvSnippet(format === 'csv.gz', schema, urls);
}

/** `url = "…"` then `df = read(url)`, or a list of URLs whose frames are concatenated. */
function readAll(urls: readonly string[], read: (url: string) => string): string[] {
  return urls.length === 1
    ? [`url = ${pythonString(urls[0]!)}`, `df = ${read('url')}`]
    : [
        '# One URL per part; the parts together are the result.',
        'urls = [',
        ...urls.map((url) => `${INDENT}${pythonString(url)},`),
        ']',
        `df = pd.concat([${read('url')} for url in urls], ignore_index=True)`,
      ];
}

function parquetSnippet(urls: readonly string[]): string {
  return [
    '# pandas 2.0 or later with pyarrow. Parquet carries the types; dtype_backend keeps integers',
    '# with NULLs exact (Int64, not float64). DECIMAL comes as decimal.Decimal, DATE as',
    '# datetime.date, TIMESTAMP as datetime64[us] (years 1 to 9999).',
    'import pandas as pd',
    '',
    ...readAll(urls, (url) => `pd.read_parquet(${url}, dtype_backend="numpy_nullable")`),
  ].join('\n');
}

function csvSnippet(gzip: boolean, schema: SnippetSource['schema'], urls: readonly string[]): string {
  if (!schema || schema.length === 0) {
    return [
      '# The column types of this export were not recorded: pandas guesses them.',
      'import pandas as pd',
      '',
      ...readAll(urls, (url) => `pd.read_csv(${url}${gzip ? ', compression="gzip"' : ''}, keep_default_na=False, na_values=[""])`),
    ].join('\n');
  }
  const columns = schema.map((column) => pandasColumn(column.name, column.type));
  const text = columns.filter((column) => column.text);
  // In a one-column file NULL is "" as well: nothing to tell apart (see the module comment).
  const markEmpty = text.length > 0 && columns.length > 1;
  const floating = columns.some((column) => column.floating);
  const then = (kind: PandasColumn['then']) => columns.filter((column) => column.then === kind);
  const dates = then('datetime');
  const needs = { decimal: then('decimal').length > 0, binary: then('binary').length > 0, dates: dates.length > 0 };

  const imports = [
    ...(needs.binary ? ['import base64'] : []),
    ...(markEmpty && gzip ? ['import gzip'] : []),
    ...(markEmpty ? ['import io', 'import re', 'import urllib.request'] : []),
    ...(needs.dates ? ['import warnings'] : []),
    ...(needs.decimal ? ['from decimal import Decimal'] : []),
  ];
  const lines: string[] = [
    '# pandas 1.3 or later. Every column typed from its Hive type: NULL reads as missing (<NA>, NaN,',
    '# NaT) and an empty string stays "". BIGINT as Int64 (exact beyond 2**53), DECIMAL as',
    '# decimal.Decimal (exact), DATE/TIMESTAMP as datetime64, BINARY as bytes.',
    ...imports,
    ...(imports.length > 0 ? [''] : []),
    'import pandas as pd',
    '',
    'DTYPES = {',
    ...columns.map((column) => `${INDENT}${pythonString(column.name)}: ${column.dtype},`),
    '}',
  ];
  if (floating) {
    lines.push(
      "# Hive's NaN is written NaN, a word pandas reads only where it is listed as missing.",
      'NA_VALUES = {name: ["", "NaN"] if dtype in ("float32", "float64") else [""] for name, dtype in DTYPES.items()}',
    );
  }
  if (markEmpty) lines.push('EMPTY = "\\udcff"  # stands for "" while pandas parses (see read_part)');
  if (needs.dates) lines.push('', '', ...AS_DATETIME);
  lines.push('', '', 'def read_part(url):');
  const body: string[] = [];
  if (markEmpty) {
    body.push(
      `raw = ${gzip ? 'gzip.decompress(urllib.request.urlopen(url).read())' : 'urllib.request.urlopen(url).read()'}`,
      '# NULL is an empty field, "" a quoted empty one, and pandas reads both as missing: each ""',
      '# field becomes a byte UTF-8 never holds, which surrogateescape reads back as EMPTY.',
      `raw = re.sub(rb'"[^"]*(?:""[^"]*)*"', lambda m: b"\\xff" if m[0] == b'""' else m[0], raw)`,
      'df = pd.read_csv(',
      `${INDENT}io.BytesIO(raw),`,
      `${INDENT}encoding_errors="surrogateescape",`,
    );
  } else {
    body.push('df = pd.read_csv(', `${INDENT}url,`, ...(gzip ? [`${INDENT}compression="gzip",`] : []));
  }
  body.push(`${INDENT}keep_default_na=False,`, `${INDENT}na_values=${floating ? 'NA_VALUES' : '[""]'},`, `${INDENT}dtype=DTYPES,`, ')');
  if (markEmpty) {
    body.push(`text = [${text.map((column) => pythonString(column.name)).join(', ')}]`, 'df[text] = df[text].replace(EMPTY, "")');
  }
  body.push('return df');
  lines.push(...body.map((line) => `${INDENT}${line}`), '', '');
  lines.push(...readAll(urls, (url) => `read_part(${url})`));
  // Converted once the parts are together, so every part's column ends in one dtype.
  const column = (c: PandasColumn) => `df[${pythonString(c.name)}]`;
  for (const c of then('int64')) lines.push(`${column(c)} = ${column(c)}.astype("Int64")  # from text: exact beyond 2**53`);
  for (const c of then('decimal')) lines.push(`${column(c)} = ${column(c)}.map(Decimal, na_action="ignore")`);
  for (const c of then('binary')) lines.push(`${column(c)} = ${column(c)}.map(base64.b64decode, na_action="ignore")`);
  for (const c of dates) lines.push(`${column(c)} = as_datetime(${column(c)})`);
  return lines.join('\n');
}

/** datetime64[ns] where pandas can hold the values; Hive's years 1 to 9999 go beyond it. */
const AS_DATETIME = [
  'def as_datetime(column):',
  `${INDENT}# datetime64[ns] spans 1677-09-21 to 2262-04-11; Hive's DATE and TIMESTAMP years 1 to 9999.`,
  `${INDENT}# Beyond that pandas 2 takes microseconds, and pandas 1 keeps the text (with a warning).`,
  `${INDENT}for unit in ("ns", "us"):`,
  `${INDENT}${INDENT}try:`,
  `${INDENT}${INDENT}${INDENT}return column.astype(f"datetime64[{unit}]")`,
  `${INDENT}${INDENT}except (ValueError, TypeError, OverflowError):`,
  `${INDENT}${INDENT}${INDENT}pass`,
  `${INDENT}warnings.warn(f"column {column.name!r} holds a date outside pandas' range; kept as text")`,
  `${INDENT}return column`,
];

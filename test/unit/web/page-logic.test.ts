/**
 * The web page's pure rules (no DOM): where a server-reported error position falls in the
 * editor's text and what is marked there, how preview cells show NULL and "" and which columns
 * hold numbers, the range a page of "My exports" shows, and the progress labels. The page itself
 * runs in Chromium in test/e2e/web-page.test.ts and web-page-data.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { markedRange, offsetAt } from '../../../app/web/editor.js';
import { pageRange } from '../../../app/web/exports-list.js';
import { formatName, statusText } from '../../../app/web/format.js';
import { isNumericType, previewCell } from '../../../app/web/preview.js';

describe('offsetAt and markedRange', () => {
  const sql = 'SELECT asset_id,\n       my_udf(asset_id)\nFROM enos.asset';

  it("finds the guard's line and column (1-based, UTF-16) and marks the word there", () => {
    const offset = offsetAt(sql, { line: 2, column: 8 });
    expect(sql.slice(offset, offset + 6)).toBe('my_udf');
    expect(markedRange(sql, offset)).toEqual({ start: offset, end: offset + 6 });
    expect(offsetAt(sql, { line: 1, column: 1 })).toBe(0);
  });

  it('marks one character where no word starts, and nothing at a line end', () => {
    const offset = offsetAt(sql, { line: 2, column: 14 });
    expect(sql[offset]).toBe('(');
    expect(markedRange(sql, offset)).toEqual({ start: offset, end: offset + 1 });
    const lineEnd = offsetAt(sql, { line: 1, column: 17 });
    expect(sql[lineEnd]).toBe('\n');
    expect(markedRange(sql, lineEnd)).toEqual({ start: lineEnd, end: lineEnd });
  });

  it('clamps a position past its line or past the text, and counts a surrogate pair as two columns', () => {
    expect(offsetAt(sql, { line: 1, column: 999 })).toBe(sql.indexOf('\n'));
    expect(offsetAt(sql, { line: 9, column: 1 })).toBe(sql.length);
    const emoji = "SELECT '😀', x";
    const offset = offsetAt(emoji, { line: 1, column: 14 });
    expect(emoji.slice(offset)).toBe('x');
    expect(markedRange(emoji, offsetAt(emoji, { line: 1, column: 9 }))).toEqual({ start: 8, end: 10 });
  });

  it('marks unicode identifiers whole', () => {
    expect(markedRange('SELECT größe FROM t', 7)).toEqual({ start: 7, end: 12 });
  });
});

describe('previewCell', () => {
  it('shows NULL as NULL and an empty string as a marked empty cell, never alike', () => {
    expect(previewCell(null)).toEqual({ text: 'NULL', className: 'null' });
    expect(previewCell('')).toEqual({ text: '', className: 'empty', title: 'empty string' });
    expect(previewCell('NULL')).toEqual({ text: 'NULL' });
    expect(previewCell('9007199254740993')).toEqual({ text: '9007199254740993' });
    expect(previewCell(false)).toEqual({ text: 'false' });
    expect(previewCell(0)).toEqual({ text: '0' });
  });
});

describe('isNumericType', () => {
  it("knows Hive's numeric types, whose cells are shown whole", () => {
    for (const type of ['tinyint', 'smallint', 'int', 'bigint', 'float', 'double', 'decimal(38,6)', 'decimal', 'DECIMAL(10,2)']) expect(isNumericType(type)).toBe(true);
    for (const type of ['string', 'varchar(20)', 'interval_day_time', 'timestamp', 'date', 'boolean', 'binary', 'array<int>', 'struct<amount:decimal(10,2)>']) {
      expect(isNumericType(type)).toBe(false);
    }
  });
});

describe('pageRange', () => {
  it('says which exports a page shows and how many pages there are', () => {
    expect(pageRange(0, 0)).toEqual({ first: 0, last: 0, pages: 1 });
    expect(pageRange(0, 7)).toEqual({ first: 1, last: 7, pages: 1 });
    expect(pageRange(1, 23)).toEqual({ first: 11, last: 20, pages: 3 });
    expect(pageRange(2, 23)).toEqual({ first: 21, last: 23, pages: 3 });
    // A page past the end (the list shrank) shows the last one.
    expect(pageRange(5, 23)).toEqual({ first: 21, last: 23, pages: 3 });
  });
});

describe('statusText', () => {
  const job = (status: string, phase: string, extra: Record<string, unknown> = {}) =>
    ({ status, cancelRequested: false, progress: { phase, rows: 12345, hive: null, ...extra } }) as Parameters<typeof statusText>[0];

  it('names each phase for what happens, long and short', () => {
    expect(statusText(job('queued', 'queued'))).toBe('Queued — waiting for a free slot');
    expect(statusText(job('running', 'hive_pending'))).toBe('Waiting for the Hive cluster');
    expect(statusText(job('running', 'hive_running', { hive: { percent: 45, summary: 'VERTICES: 01/02' } }))).toBe('Running on Hive — 45% (VERTICES: 01/02)');
    expect(statusText(job('running', 'hive_running', { hive: { percent: 45, summary: null } }), true)).toBe('Running on Hive 45%');
    expect(statusText(job('running', 'hive_running'))).toBe('Running on Hive');
    expect(statusText(job('running', 'writing'))).toBe(`Writing rows — ${(12345).toLocaleString()} so far`);
    expect(statusText(job('running', 'writing'), true)).toBe('Writing rows');
    expect(statusText(job('running', 'writing', { rows: 0 }))).toBe('Writing rows');
    expect(statusText({ ...job('running', 'writing'), cancelRequested: true })).toBe('Cancelling…');
    expect(statusText(job('succeeded', 'done'))).toBe('Ready');
    expect(statusText(job('expired', 'done'))).toBe('Expired');
  });

  it('names the formats', () => {
    expect(['csv', 'csv.gz', 'parquet', 'other'].map(formatName)).toEqual(['CSV', 'CSV, gzip', 'Parquet', 'other']);
  });
});

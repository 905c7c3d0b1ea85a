import { describe, expect, it } from 'vitest';
import type { ExportTarget } from '../../../app/src/storage/export-store.js';
import { assertValidTarget, contentDispositionOf, contentTypeOf, downloadFileName } from '../../../app/src/storage/export-naming.js';

const valid: ExportTarget = {
  jobId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  ownerId: 'user_42@demo-org',
  fileName: 'enos-measurement-20261127-2110',
  format: 'csv',
  expiresAt: new Date('2026-11-28T21:10:00Z'),
};

describe('export naming', () => {
  it('names and types both formats', () => {
    expect(downloadFileName('x', 'csv')).toBe('x.csv');
    expect(downloadFileName('x', 'csv.gz')).toBe('x.csv.gz');
    expect(contentTypeOf('csv')).toBe('text/csv; charset=utf-8');
    expect(contentTypeOf('csv.gz')).toBe('application/gzip');
    expect(contentDispositionOf('x', 'csv.gz')).toBe('attachment; filename="x.csv.gz"');
  });

  it('accepts a well-formed target', () => {
    expect(() => assertValidTarget(valid)).not.toThrow();
  });

  it.each([
    ['ownerId', '..'],
    ['ownerId', 'a/b'],
    ['ownerId', ''],
    ['jobId', '.hidden'],
    ['jobId', 'a\u0000b'],
    ['fileName', 'report"; filename="evil.exe'],
    ['fileName', '../x'],
    ['fileName', 'ä-umlaut'],
  ] as const)('refuses %s %j, naming the field and the value', (field, value) => {
    expect(() => assertValidTarget({ ...valid, [field]: value })).toThrow(`Export target ${field} ${JSON.stringify(value)}`);
  });

  it('refuses an invalid expiry', () => {
    expect(() => assertValidTarget({ ...valid, expiresAt: new Date('not a date') })).toThrow('Export target expiresAt Invalid Date is not a valid Date');
  });
});

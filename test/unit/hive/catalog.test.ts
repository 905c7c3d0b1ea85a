/**
 * The catalog's caching and its reading of GetColumns' type columns, with a lister that counts
 * its calls; the Hive side of both is tested against the stand-in in
 * test/integration/connector/catalog.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createColumnCatalog, hiveTypeOfColumn, type CatalogColumn } from '../../../app/src/hive/catalog.js';

describe('createColumnCatalog', () => {
  it('reuses an answer per table (names in any case) for the TTL, asks again after it, and forgets failures at once', async () => {
    let now = 0;
    const calls: string[] = [];
    let fail = true;
    const catalog = createColumnCatalog(
      async (database, table): Promise<CatalogColumn[]> => {
        calls.push(`${database}.${table}`);
        if (fail) throw new Error('Hive is down');
        return [{ name: 'x', type: 'int' }];
      },
      { ttlMs: 1_000, clock: () => now },
    );
    await expect(catalog('enos', 'asset')).rejects.toThrow('Hive is down');
    fail = false;
    expect(await catalog('enos', 'asset')).toEqual([{ name: 'x', type: 'int' }]);
    expect(await catalog('ENOS', 'Asset')).toEqual([{ name: 'x', type: 'int' }]);
    await catalog('enos', 'measurement');
    now = 999;
    await catalog('enos', 'asset');
    now = 1_000;
    await catalog('enos', 'asset');
    expect(calls).toEqual(['enos.asset', 'enos.asset', 'enos.measurement', 'enos.asset']);
  });
});

describe('hiveTypeOfColumn', () => {
  it("writes Hive's type text back from TypeDescriptor's name, size and digits", () => {
    const type = (TYPE_NAME: string, COLUMN_SIZE: number | null = null, DECIMAL_DIGITS: number | null = null) => hiveTypeOfColumn({ TYPE_NAME, COLUMN_SIZE, DECIMAL_DIGITS });
    expect([
      type('BIGINT', 19, 0), type('DECIMAL', 38, 6), type('DECIMAL', 10, 0), type('VARCHAR', 20), type('CHAR', 10), type('STRING', 2147483647),
      type('TIMESTAMP WITH LOCAL TIME ZONE', 31), type('INTERVAL_DAY_TIME'), type('array<int>'), type('struct<Name:string,ts:timestamp>'),
    ]).toEqual([
      'bigint', 'decimal(38,6)', 'decimal(10,0)', 'varchar(20)', 'char(10)', 'string', 'timestamp with local time zone', 'interval_day_time', 'array<int>',
      'struct<Name:string,ts:timestamp>',
    ]);
  });
});

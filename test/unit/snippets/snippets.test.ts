/**
 * The snippet generator's decisions, from constructed job JSON (formats and multi-part results
 * the branch cannot export yet). What the code does when run is proven on real exports in
 * test/integration/snippets/pandas-snippets.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { baseType, pandasColumn } from '../../../app/src/snippets/pandas-types.js';
import { partUrls, snippetsFor } from '../../../app/src/snippets/snippets.js';

const schema = [
  { name: 'id', type: 'bigint' },
  { name: 'name', type: 'varchar(20)' },
];
const files = [
  { url: 'https://a.blob.core.windows.net/e/part-00001.parquet?sig=1' },
  { url: 'https://a.blob.core.windows.net/e/part-00002.parquet?sig=2' },
];
const mltableUrl = 'https://a.blob.core.windows.net/e/MLTable?sig=3';

describe('snippetsFor', () => {
  it('has nothing to show without a URL (queued, running, failed, expired)', () => {
    expect(snippetsFor({ format: 'csv', schema, downloadUrl: null })).toBeNull();
    expect(snippetsFor({ format: 'csv', schema, downloadUrl: null, files: [] })).toBeNull();
  });

  it('reads the parts from files when the job has them, else the one download URL', () => {
    expect(partUrls({ format: 'csv', schema, downloadUrl: 'https://x/1', files })).toEqual(files.map((file) => file.url));
    expect(partUrls({ format: 'csv', schema, downloadUrl: 'https://x/1' })).toEqual(['https://x/1']);
  });

  it('one part: an Azure ML uri_file input, and one URL read into pandas', () => {
    const snippets = snippetsFor({ format: 'csv', schema, downloadUrl: 'https://x/a.csv?s="1"' })!;
    expect(snippets.azureml).toContain('data = Input(type="uri_file", path="https://x/a.csv?s=\\"1\\"")');
    expect(snippets.azureml).not.toContain('mltable');
    expect(snippets.pandas).toContain('url = "https://x/a.csv?s=\\"1\\""\ndf = read_part(url)');
  });

  it('several parts: an mltable input on the MLTable URL, and the parts concatenated in pandas', () => {
    const snippets = snippetsFor({ format: 'csv.gz', schema, files, mltableUrl })!;
    expect(snippets.azureml).toContain(`data = Input(type="mltable", path="${mltableUrl}")`);
    expect(snippets.azureml).not.toContain('uri_file');
    expect(snippets.pandas).toContain(`urls = [\n    "${files[0]!.url}",\n    "${files[1]!.url}",\n]`);
    expect(snippets.pandas).toContain('df = pd.concat([read_part(url) for url in urls], ignore_index=True)');
    expect(snippets.pandas).toContain('gzip.decompress(urllib.request.urlopen(url).read())');
    // Converted after the parts are joined, so every part's column ends in one dtype.
    expect(snippets.pandas.indexOf('df["id"] = df["id"].astype("Int64")')).toBeGreaterThan(snippets.pandas.indexOf('pd.concat('));
  });

  it('Parquet: read_parquet with nullable dtypes, one URL or the list', () => {
    const one = snippetsFor({ format: 'parquet', schema, downloadUrl: files[0]!.url })!;
    expect(one.pandas).toContain(`df = pd.read_parquet(url, dtype_backend="numpy_nullable")`);
    const several = snippetsFor({ format: 'parquet', schema, files, mltableUrl })!;
    expect(several.pandas).toContain('df = pd.concat([pd.read_parquet(url, dtype_backend="numpy_nullable") for url in urls], ignore_index=True)');
    expect(several.azureml).toContain('Input(type="mltable"');
  });

  it('without a recorded schema, a plain read that still keeps "NA" and "null" as text', () => {
    const snippets = snippetsFor({ format: 'csv', schema: null, downloadUrl: 'https://x/a.csv' })!;
    expect(snippets.pandas).toContain('pd.read_csv(url, keep_default_na=False, na_values=[""])');
  });

  it('marks "" only where a column can hold it, and not in a one-column file (NULL is "" there too)', () => {
    const numeric = snippetsFor({ format: 'csv', schema: [schema[0]!, { name: 'v', type: 'double' }], downloadUrl: 'https://x/a.csv' })!;
    expect(numeric.pandas).not.toContain('re.sub(');
    expect(numeric.pandas).toContain('    df = pd.read_csv(\n        url,\n');
    const oneText = snippetsFor({ format: 'csv', schema: [schema[1]!], downloadUrl: 'https://x/a.csv' })!;
    expect(oneText.pandas).not.toContain('re.sub(');
    expect(snippetsFor({ format: 'csv', schema, downloadUrl: 'https://x/a.csv' })!.pandas).toContain('re.sub(');
  });
});

describe('pandasColumn', () => {
  it.each([
    ['tinyint', '"Int8"', null],
    ['smallint', '"Int16"', null],
    ['int', '"Int32"', null],
    ['bigint', '"string"', 'int64'],
    ['boolean', '"boolean"', null],
    ['float', '"float32"', null],
    ['double', '"float64"', null],
    ['decimal(38,6)', 'str', 'decimal'],
    ['date', 'str', 'datetime'],
    ['timestamp', 'str', 'datetime'],
    ['string', '"string"', null],
    ['varchar(20)', '"string"', null],
    ['char(10)', '"string"', null],
    ['binary', '"string"', 'binary'],
    ['array', '"string"', null],
    ['map<string,int>', '"string"', null],
    ['timestamp with local time zone', '"string"', null],
    ['interval_day_time', '"string"', null],
  ])('%s reads as %s, then %s', (type, dtype, then) => {
    expect(pandasColumn('c', type)).toMatchObject({ dtype, then });
  });

  it('knows which columns may hold "" and which may hold NaN', () => {
    expect(['string', 'varchar(5)', 'char(3)', 'binary', 'some_future_type'].map((type) => pandasColumn('c', type).text)).toEqual([true, true, true, true, true]);
    expect(['int', 'bigint', 'decimal(10,2)', 'date', 'timestamp', 'array', 'struct', 'interval_year_month'].some((type) => pandasColumn('c', type).text)).toBe(false);
    expect(['float', 'double', 'decimal(10,2)', 'bigint'].map((type) => pandasColumn('c', type).floating)).toEqual([true, true, false, false]);
  });

  it('takes the base of a parameterised type', () => {
    expect(baseType('DECIMAL(38, 6)')).toBe('decimal');
    expect(baseType('varchar(20)')).toBe('varchar');
    expect(baseType('array<struct<a:int>>')).toBe('array');
    expect(baseType('timestamp with local time zone')).toBe('timestamp with local time zone');
  });
});

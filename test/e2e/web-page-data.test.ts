/**
 * The web page's data features the way a data scientist uses them, in Debian's Chromium
 * (playwright-core) against the real local stack: the preview table before running (the first
 * rows from POST /api/v1/previews, each column's Hive type in the header, NULL apart from "",
 * BIGINT and DECIMAL exact, no export made), Hive's compile error from a preview with its place
 * marked in the editor, the column browser in "Your data" (columns and types fetched when a
 * table is opened, a click puts the name where the cursor is), a result in several parts (each
 * part's URL and the MLTable's, the Azure ML code on mltable, every part a complete CSV), and
 * the format menu and Format column of My exports. The page's other features are in
 * web-page.test.ts; both start from test/support/web-page-session.ts.
 *
 * The stack runs with the smallest part size the connector accepts (EXPORT_PART_MAX_BYTES, 64 KiB)
 * and fetches 500 rows per FetchResults, so a result of a few hundred KB arrives in enough row
 * sets to be cut into several parts (parts end between row sets, export-pipeline.ts).
 */
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildService } from '../../scripts/lib/child-service.js';
import { openBrowserPage, pageSessionToken, signInOnPage, startLocalStack, unexpectedProblems, type BrowserPage, type LocalStackReady } from '../support/web-page-session.js';

const PART_MAX_BYTES = 64 * 1024;

let stack: ChildService<LocalStackReady>;
let browser: BrowserPage;
let page: Page;
/** Every request the page made, in order. */
const requests: Request[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    seedRows: 5000,
    dataDirPrefix: 'e2e-data-',
    env: { EXPORT_PART_MAX_BYTES: String(PART_MAX_BYTES), HIVE_FETCH_SIZE: '500' },
  });
  browser = await openBrowserPage(stack.ready.url);
  page = browser.page;
  page.on('request', (request) => requests.push(request));
  await page.goto(stack.ready.url);
  await signInOnPage(page, 'demo', 'demo-password');
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The API as the signed-in page's user: what the page shows is checked against what the server says. */
async function api(route: string): Promise<any> {
  const response = await fetch(`${stack.ready.url}${route}`, { headers: { authorization: `Bearer ${await pageSessionToken(page)}` } });
  expect(response.status).toBe(200);
  return response.json();
}

const editor = () => page.getByLabel(/Hive query/);

/** The preview's header as [name, Hive type] per column. */
async function previewHeader(): Promise<[string, string][]> {
  return page.locator('#preview-table thead th').evaluateAll((cells) =>
    cells.map((th) => [th.firstChild?.textContent ?? '', th.querySelector('.type')?.textContent ?? ''] as [string, string]),
  );
}

/** The preview's body: each cell's text and what it is marked as ('null' for NULL, 'empty' for "", '' for a value). */
async function previewBody(): Promise<{ text: string; kind: string }[][]> {
  return page.locator('#preview-table tbody tr').evaluateAll((rows) =>
    rows.map((tr) =>
      Array.from(tr.querySelectorAll('td'), (td) => ({
        text: td.textContent ?? '',
        kind: ['null', 'empty'].find((kind) => td.classList.contains(kind)) ?? '',
      })),
    ),
  );
}

/** Runs the editor's query as an export in the chosen format and waits until it is ready; answers the export as the API has it. */
async function runExport(sql: string, format: string): Promise<any> {
  await editor().fill(sql);
  await page.getByLabel('Format').selectOption(format);
  await page.getByRole('button', { name: 'Run export' }).click();
  await expect.poll(() => page.locator('#current-query').textContent()).toBe(sql);
  await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 60_000 }).toBe('Ready');
  const { exports } = await api('/api/v1/exports');
  const job = exports.find((candidate: { sql: string; format: string }) => candidate.sql === sql && candidate.format === format);
  expect(job?.status).toBe('succeeded');
  expect(await page.locator('#current-id').textContent()).toBe(job.id.slice(0, 8));
  return job;
}

describe("the web page's data features", () => {
  it('shows the columns of a table with their types only when it is opened, and puts a clicked column name where the cursor is', async () => {
    await expect.poll(() => page.locator('#catalog').textContent()).toContain('type_probe');
    const columnRequests = () => requests.filter((request) => request.url().includes('/api/v1/catalog/tables/')).map((request) => new URL(request.url()).pathname);
    expect(columnRequests()).toEqual([]);

    const toggle = page.getByRole('button', { name: 'Columns of enos.type_probe' });
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const panel = page.locator('#columns-enos-type_probe');
    const items = panel.locator('ul.columns li');
    const { columns } = await api('/api/v1/catalog/tables/enos/type_probe/columns');
    expect(columns.length).toBeGreaterThan(20);
    await expect.poll(() => items.count()).toBe(columns.length);
    const shown = await items.evaluateAll((lis) => lis.map((li) => [li.querySelector('button.column')?.textContent, li.querySelector('.type')?.textContent]));
    expect(shown).toEqual(columns.map((column: { name: string; type: string }) => [column.name, column.type]));
    expect(shown).toContainEqual(['c_decimal_wide', 'decimal(38,6)']);
    expect(shown).toContainEqual(['c_struct', 'struct<name:string,ts:timestamp,amount:decimal(10,2)>']);
    expect(columnRequests()).toEqual(['/api/v1/catalog/tables/enos/type_probe/columns']);
    // A long type (a struct's) wraps inside "Your data" rather than pushing the page sideways.
    const aside = (await page.locator('aside.catalog').boundingBox())!;
    for (const box of await panel.locator('.type').evaluateAll((types) => types.map((type) => type.getBoundingClientRect().right))) {
      expect(box).toBeLessThanOrEqual(aside.x + aside.width + 1);
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);

    // A name goes in where the cursor is, the cursor after it, as typing would put it.
    await editor().fill('SELECT  FROM enos.type_probe ORDER BY id');
    await editor().evaluate((area: HTMLTextAreaElement) => area.setSelectionRange(7, 7));
    await page.getByRole('button', { name: 'Insert column c_bigint of enos.type_probe' }).click();
    expect(await editor().inputValue()).toBe('SELECT c_bigint FROM enos.type_probe ORDER BY id');
    expect(await editor().evaluate((area: HTMLTextAreaElement) => [area.selectionStart, area.selectionEnd, document.activeElement === area])).toEqual([15, 15, true]);
    await editor().type(', ');
    await page.getByRole('button', { name: 'Insert column c_decimal_wide of enos.type_probe' }).click();
    expect(await editor().inputValue()).toBe('SELECT c_bigint, c_decimal_wide FROM enos.type_probe ORDER BY id');
    await browser.shot('11-column-browser');

    // Closed and opened again: the columns stay, no second request.
    await toggle.click();
    expect(await panel.isVisible()).toBe(false);
    await toggle.click();
    expect(await items.count()).toBe(columns.length);
    expect(columnRequests()).toHaveLength(1);
  });

  it('previews the first rows in a table with each Hive type in the header, NULL apart from "", big numbers exact, and makes no export', async () => {
    const exportsBefore = (await api('/api/v1/exports')).exports;
    await page.locator('#refresh-list').click();
    const listBefore = await page.locator('#exports-body').innerHTML();

    await editor().fill('SELECT id, c_bigint, c_decimal_wide, c_string, c_boolean, c_date FROM enos.type_probe ORDER BY id');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/previews' && response.request().method() === 'POST'),
      page.getByRole('button', { name: 'Preview', exact: true }).click(),
    ]);
    expect(answer.status()).toBe(200);
    const preview = await answer.json();
    await expect.poll(() => page.locator('#preview').isVisible()).toBe(true);

    expect(await previewHeader()).toEqual([
      ['id', 'int'],
      ['c_bigint', 'bigint'],
      ['c_decimal_wide', 'decimal(38,6)'],
      ['c_string', 'string'],
      ['c_boolean', 'boolean'],
      ['c_date', 'date'],
    ]);
    const body = await previewBody();
    expect(body).toHaveLength(preview.rows.length);
    expect(body).toHaveLength(11);
    const plain = (...texts: string[]) => texts.map((text) => ({ text, kind: '' }));
    // BIGINT beyond 2^53 and DECIMAL(38,6) digit for digit (a JSON number would round them).
    expect(body[0]).toEqual(plain('1', '9007199254740993', '1.000001', 'a', 'true', '2024-02-29'));
    expect(body[2]).toEqual([...plain('3', '-9223372036854775808', '-12345678901234567890123456789012.123456'), { text: '', kind: 'empty' }, ...plain('false', '1970-01-01')]);
    expect(body[3]).toEqual(plain('4', '9223372036854775807', '99999999999999999999999999999999.999999', 'Zürich ⚡ 風力', 'true', '9999-12-31'));
    expect(body[6]).toEqual(plain('7', '-9007199254740993', '0.000001', 'seven', 'false', '1900-03-01'));
    // Row 2 is NULL in every column but the id; row 3's string is "" — they must not look alike.
    expect(body[1]).toEqual([...plain('2'), ...Array.from({ length: 5 }, () => ({ text: 'NULL', kind: 'null' }))]);
    const looks = (row: number, column: number) =>
      page.locator(`#preview-table tbody tr:nth-child(${row}) td:nth-child(${column})`).evaluate((td) => {
        const style = getComputedStyle(td);
        return { fontStyle: style.fontStyle, background: style.backgroundImage, title: td.getAttribute('title') ?? '' };
      });
    const [nullCell, emptyCell, textCell] = await Promise.all([looks(2, 4), looks(3, 4), looks(1, 4)]);
    expect(nullCell.fontStyle).toBe('italic');
    expect(emptyCell).toMatchObject({ fontStyle: 'normal', title: 'empty string' });
    expect(emptyCell.background).not.toBe('none');
    expect(textCell).toEqual({ fontStyle: 'normal', background: 'none', title: '' });
    // Shown whole, not cut to an ellipsis that would read as another number.
    for (const column of [2, 3]) {
      const cut = await page
        .locator(`#preview-table tbody td:nth-child(${column})`)
        .evaluateAll((cells) => cells.filter((td) => td.scrollWidth > td.clientWidth).map((td) => td.textContent));
      expect(cut).toEqual([]);
    }
    expect(await page.locator('#preview-note').textContent()).toBe('11 rows, all there are.');
    await browser.shot('12-preview');

    // The first rows of a bigger result, and it says there are more.
    await editor().fill('SELECT asset_id, capacity_kw FROM enos.asset ORDER BY asset_id');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await expect.poll(() => page.locator('#preview-note').textContent()).toBe('20 rows, the first of more.');
    expect(await previewHeader()).toEqual([
      ['asset_id', 'string'],
      ['capacity_kw', 'decimal(10,2)'],
    ]);
    expect(await page.locator('#preview-table tbody tr').count()).toBe(20);

    // A preview is no export: none made, none shown.
    expect((await api('/api/v1/exports')).exports).toEqual(exportsBefore);
    await page.locator('#refresh-list').click();
    await expect.poll(() => page.locator('#exports-body').innerHTML()).toBe(listBefore);
    expect(await page.locator('#current').isVisible()).toBe(false);
  });

  it("shows Hive's compile error from a preview and marks its place in the editor", async () => {
    const sql = 'SELECT id,\n       no_such_column\nFROM enos.type_probe';
    await editor().fill(sql);
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await expect.poll(() => page.locator('#export-error').textContent()).toMatch(/^Error while compiling statement: FAILED: SemanticException .*no_such_column/);
    expect(await page.locator('#export-error').textContent()).toMatch(/\bLine \d+:\d+\b/);
    expect(await page.locator('#preview').isVisible()).toBe(false);
    const mark = page.locator('#sql-backdrop mark');
    // Counted, not read: reading a mark that never comes would wait out the test's whole timeout.
    await expect.poll(() => mark.count()).toBe(1);
    expect(await mark.textContent()).toBe('no_such_column');
    expect(await mark.getAttribute('data-line')).toBe('2');
    expect(await mark.getAttribute('data-column')).toBe('8');
    expect(await editor().getAttribute('aria-invalid')).toBe('true');
    expect(await editor().evaluate((area: HTMLTextAreaElement) => area.value.slice(area.selectionStart, area.selectionEnd))).toBe('no_such_column');
    await browser.shot('13-hive-error-position');

    // Fixed and previewed again: the error and its mark go, the table comes back.
    await editor().fill('SELECT id\nFROM enos.type_probe');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await expect.poll(() => page.locator('#preview').isVisible()).toBe(true);
    expect(await page.locator('#export-error').isVisible()).toBe(false);
    expect(await mark.count()).toBe(0);
  });

  it('offers csv, csv.gz and parquet, and My exports shows the format of each export', async () => {
    expect(await page.locator('#format option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value))).toEqual(['csv', 'csv.gz', 'parquet']);
    const csv = await runExport("SELECT id, c_string, 'format_csv' AS tag FROM enos.type_probe ORDER BY id", 'csv');
    expect(await page.locator('#current-format').textContent()).toBe('CSV');
    const parquet = await runExport("SELECT id, c_string, 'format_parquet' AS tag FROM enos.type_probe ORDER BY id", 'parquet');
    expect(await page.locator('#current-format').textContent()).toBe('Parquet');

    // What was chosen on the page is what was written: a CSV header, Parquet's magic bytes.
    expect((await (await fetch(csv.downloadUrl)).text()).split('\r\n')[0]).toBe('id,c_string,tag');
    expect(Buffer.from(await (await fetch(parquet.downloadUrl)).arrayBuffer()).subarray(0, 4).toString('latin1')).toBe('PAR1');

    await page.locator('#refresh-list').click();
    const headers = await page.locator('#exports-table thead th').allTextContents();
    const formatCell = (tag: string) => page.locator('#exports-body tr', { hasText: tag }).locator('td').nth(headers.indexOf('Format'));
    await expect.poll(() => formatCell('format_csv').textContent()).toBe('CSV');
    expect(await formatCell('format_parquet').textContent()).toBe('Parquet');
    await browser.shot('14-formats');
  });

  it("lists each part's URL and the MLTable's for a result in parts, with Azure ML code on the MLTable; each part URL downloads a complete CSV", async () => {
    const sql = 'SELECT asset_id, ts, point, value, quality FROM enos.measurement ORDER BY asset_id, ts, point LIMIT 4000';
    const job = await runExport(sql, 'csv');
    const files: { url: string; name: string; rows: number; bytes: number; sha256: string }[] = job.files;
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(job.downloadUrl).toBeNull();
    expect(job.mltableUrl).toEqual(expect.any(String));

    expect(await page.locator('#parts').isVisible()).toBe(true);
    expect(await page.locator('#single-file').isVisible()).toBe(false);
    expect(await page.locator('#parts-count').textContent()).toBe(String(files.length));
    const partItems = page.locator('#parts-list li');
    expect(await partItems.count()).toBe(files.length);
    const shownUrls = await page.locator('#parts-list input').evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));
    expect(shownUrls).toEqual(files.map((file) => file.url));
    for (const [i, file] of files.entries()) expect(await partItems.nth(i).locator('.hint').textContent()).toContain(file.name);
    // The MLTable's URL says on screen what it is.
    const mltableLabel = page.locator('label[for="mltable-url"]');
    expect(await mltableLabel.isVisible()).toBe(true);
    expect(await mltableLabel.textContent()).toMatch(/^URL of the MLTable file\b.*all parts/);
    const mltableUrl = await page.locator('#mltable-url').inputValue();
    expect(mltableUrl).toBe(job.mltableUrl);
    await page.getByRole('button', { name: `Copy URL of ${files[1]!.name}` }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(files[1]!.url);

    const aml = await page.locator('#aml-snippet').textContent();
    expect(aml).toContain(`data = Input(type="mltable", path=${JSON.stringify(mltableUrl)})`);
    expect(aml).not.toContain('uri_file');
    const pandas = (await page.locator('#pandas-snippet').textContent()) ?? '';
    for (const url of shownUrls) expect(pandas).toContain(JSON.stringify(url));
    await browser.shot('15-parts');

    // Every URL shown downloads its part whole: the bytes the connector recorded, a header, its rows.
    let rows = 0;
    for (const [i, url] of shownUrls.entries()) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect({ part: i + 1, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ part: i + 1, bytes: files[i]!.bytes, sha256: files[i]!.sha256 });
      const records = parse(bytes) as string[][];
      expect(records[0]).toEqual(['asset_id', 'ts', 'point', 'value', 'quality']);
      expect(records.length - 1).toBe(files[i]!.rows);
      rows += records.length - 1;
    }
    expect(rows).toBe(4000);
    // The parts are cut at the part size (give or take the row sets in flight), not all in the first.
    expect(files[0]!.bytes).toBeGreaterThanOrEqual(PART_MAX_BYTES);

    // The MLTable shown names the same parts, in order (its grants are signed apart from the page's, so compared by path), and they download.
    const manifest = await (await fetch(mltableUrl)).text();
    const listed: string[] = [...manifest.matchAll(/^ {2}- file: (".*")$/gm)].map((match) => JSON.parse(match[1]!));
    expect(listed.map((url) => new URL(url).pathname)).toEqual(shownUrls.map((url) => new URL(url).pathname));
    for (const url of listed) expect((await fetch(url)).status).toBe(200);
  });

  it('raised no console errors and no CSP violations', () => {
    // Hive's compile error answers 422 on purpose.
    const unexpected = unexpectedProblems(browser.problems, [422]);
    if (unexpected.length > 0) process.stderr.write(`${unexpected.join('\n')}\n`);
    expect(unexpected).toEqual([]);
  });
});

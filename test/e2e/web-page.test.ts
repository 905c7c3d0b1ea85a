/**
 * The web page the way a person uses it: Debian's Chromium driven by playwright-core against
 * the real local stack (`npm start`'s script, in a scratch data folder on free ports). Sign in,
 * run a query, watch it finish, copy the URL and download it with a plain GET, see a refused
 * query's reason (its place marked in the editor), copy the pandas and Azure ML code beside the
 * URL (and run the copied pandas code), open an export to see its query and format and run it
 * again or edit it as new, watch honest progress labels, cancel a long query, delete an export,
 * page through my exports, sign out — with no console errors and no Content-Security-Policy
 * violations. Screenshots of the main screens go to
 * test-results/screenshots/ (git-ignored; CI keeps them as artifacts). The preview, the column
 * browser, results in parts and the formats are in web-page-data.test.ts.
 */
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildService } from '../../scripts/lib/child-service.js';
import { DESCRIBE_FRAME, runPythonScript } from '../support/debian-python.js';
import { openBrowserPage, pageSessionToken, startLocalStack, unexpectedProblems, type BrowserPage, type LocalStackReady } from '../support/web-page-session.js';

let stack: ChildService<LocalStackReady>;
let browser: BrowserPage;
let page: Page;
const shot = (name: string) => browser.shot(name);

beforeAll(async () => {
  stack = await startLocalStack({ seedRows: 20_000, dataDirPrefix: 'e2e-stack-' });
  browser = await openBrowserPage(stack.ready.url);
  page = browser.page;
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the web page', () => {
  it('refuses a wrong password with the generic message, then signs in', async () => {
    await page.goto(stack.ready.url);
    await expect.poll(() => page.locator('#sign-in').isVisible()).toBe(true);
    await shot('01-sign-in');
    await page.getByLabel('EnOS account', { exact: true }).fill('demo');
    await page.getByLabel('Password', { exact: true }).fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#sign-in-error').textContent()).toMatch(/Invalid username or password/);
    expect(await page.locator('#password').getAttribute('type')).toBe('password');

    await page.getByLabel('Password', { exact: true }).fill('demo-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#workspace').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#user-label').textContent()).toContain('demo');
    await expect.poll(() => page.locator('#catalog').textContent()).toContain('measurement');
    await page.getByRole('button', { name: 'Query enos.power_load' }).click();
    expect(await page.getByLabel(/Hive query/).inputValue()).toBe('SELECT * FROM enos.power_load LIMIT 1000');
  });

  it('runs a query from the keyboard, shows progress to success, and the copied URL downloads the CSV', async () => {
    const sql = page.getByLabel(/Hive query/);
    await sql.fill('SELECT asset_id, name, asset_type FROM enos.asset ORDER BY asset_id LIMIT 25');
    await sql.press('Control+Enter');
    await expect.poll(() => page.locator('#current').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 30_000 }).toBe('Ready');
    expect(await page.locator('#current-rows').textContent()).toBe('25');
    await shot('02-export-ready');

    const url = await page.locator('#download-url').inputValue();
    await page.getByRole('button', { name: 'Copy', exact: true }).click();
    await expect.poll(() => page.locator('#copy-feedback').textContent()).toMatch(/Copied/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    expect(await page.locator('#aml-snippet').textContent()).toContain(`Input(type="uri_file", path=${JSON.stringify(url)})`);
    expect(await page.locator('#countdown').textContent()).toMatch(/^in \d+ h/);

    const response = await fetch(url);
    expect(response.status).toBe(200);
    const records = parse(await response.text()) as string[][];
    expect(records[0]).toEqual(['asset_id', 'name', 'asset_type']);
    expect(records).toHaveLength(26);
  });

  it('shows the query, its format, and pandas and Azure ML code beside the URL, each with its own copy button; the copied pandas code reads the file', async () => {
    const url = await page.locator('#download-url').inputValue();
    expect(await page.locator('#current-query').textContent()).toBe('SELECT asset_id, name, asset_type FROM enos.asset ORDER BY asset_id LIMIT 25');
    expect(await page.locator('#current-format').textContent()).toBe('CSV');

    const pandas = page.locator('#pandas-snippet');
    expect(await pandas.textContent()).toContain(`url = ${JSON.stringify(url)}`);
    await page.getByRole('button', { name: 'Copy pandas code' }).click();
    await expect.poll(() => page.locator('#copy-feedback').textContent()).toBe('pandas code copied to the clipboard.');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(await pandas.textContent());
    await page.getByRole('button', { name: 'Copy Azure ML code' }).click();
    await expect.poll(() => page.locator('#copy-feedback').textContent()).toBe('Azure ML code copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await page.locator('#aml-snippet').textContent());

    // Wrapped, not scrolled: the whole SAS URL is visible in the box.
    for (const id of ['#pandas-snippet', '#aml-snippet']) {
      const box = page.locator(`pre:has(${id})`);
      expect(await box.evaluate((element) => getComputedStyle(element).whiteSpace)).toBe('pre-wrap');
      expect(await box.evaluate((element) => element.scrollWidth - element.clientWidth)).toBeLessThanOrEqual(0);
    }

    // The code as copied from the page, run by Debian's pandas against the URL.
    const frame = JSON.parse(await runPythonScript(`${copied}\n${DESCRIBE_FRAME}\ndescribe(df)\n`));
    expect(frame.columns).toEqual(['asset_id', 'name', 'asset_type']);
    expect(frame.values.asset_id).toHaveLength(25);

    const helper = page.getByRole('link', { name: 'enos_aml.py', exact: true });
    expect(await helper.getAttribute('href')).toBe('/client/enos_aml.py');
    const served = await fetch(new URL('/client/enos_aml.py', stack.ready.url));
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^text\/x-python/);
    await shot('02b-snippets');
  });

  it("shows the SQL guard's reason for a refused query", async () => {
    await page.getByLabel(/Hive query/).fill('DROP TABLE enos.asset');
    await page.getByRole('button', { name: 'Run export' }).click();
    await expect.poll(() => page.locator('#export-error').textContent()).toMatch(/not allowed|only/i);
    await shot('03-refused-query');
    await page.getByLabel(/Hive query/).fill('SELECT * FROM enos_other.site');
    await page.getByRole('button', { name: 'Run export' }).click();
    await expect.poll(() => page.locator('#export-error').textContent()).toMatch(/enos_other\.site/);
  });

  it("marks the refusal's place in the editor and selects it; an edit clears the mark", async () => {
    const sql = page.getByLabel(/Hive query/);
    await sql.fill('SELECT asset_id,\n       my_udf(asset_id) FROM enos.asset');
    await page.getByRole('button', { name: 'Run export' }).click();
    await expect.poll(() => page.locator('#export-error').textContent()).toMatch(/my_udf\(\) at line 2 column 8/);
    const mark = page.locator('#sql-backdrop mark');
    await expect.poll(() => mark.textContent()).toBe('my_udf');
    expect(await mark.getAttribute('data-line')).toBe('2');
    expect(await sql.getAttribute('aria-invalid')).toBe('true');
    expect(await sql.evaluate((element: HTMLTextAreaElement) => element.value.slice(element.selectionStart, element.selectionEnd))).toBe('my_udf');
    // The mark sits where the text is: on the second line, under the function's name.
    const [markBox, areaBox] = await Promise.all([mark.boundingBox(), sql.boundingBox()]);
    expect(markBox!.y).toBeGreaterThan(areaBox!.y + 10);
    expect(markBox!.x).toBeGreaterThan(areaBox!.x + 20);
    await shot('03b-error-position');
    await sql.press('End');
    await sql.type(' ');
    expect(await mark.count()).toBe(0);
    expect(await sql.getAttribute('aria-invalid')).toBeNull();
  });

  it('labels progress honestly: waiting for the Hive cluster, then writing rows with how many so far', async () => {
    const fault = async (spec: Record<string, unknown>) =>
      (await fetch(`${stack.ready.adminUrl}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) })).status;
    // The cluster has no slot for a few seconds (ExecuteStatement waits; a cancel would wait with it).
    expect(await fault({ kind: 'delay', match: 'queued_e2e', ms: 6_000, during: 'queue' })).toBe(201);
    await page.getByLabel(/Hive query/).fill("SELECT 'queued_e2e' AS x");
    await page.getByRole('button', { name: 'Run export' }).click();
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 15_000 }).toBe('Waiting for the Hive cluster');
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 30_000 }).toBe('Ready');

    // Four row sets arrive (the first two are written while the next two are encoded), then Hive holds the next FetchResults.
    expect(await fault({ kind: 'delay', match: 'writing_e2e', ms: 60_000, during: 'fetch', afterFetches: 4 })).toBe(201);
    await page.getByLabel(/Hive query/).fill("SELECT m.*, a.name, 'writing_e2e' AS x FROM enos.measurement m CROSS JOIN enos.asset a");
    await page.getByRole('button', { name: 'Run export' }).click();
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 20_000 }).toMatch(/^Writing rows — [1-9][\d,]* so far$/);
    await page.locator('#refresh-list').click();
    await expect.poll(() => page.locator('#exports-body tr').first().locator('td').first().textContent()).toBe('Writing rows');
    await page.getByRole('button', { name: 'Cancel export', exact: true }).click();
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 15_000 }).toBe('Cancelled');
    await fetch(`${stack.ready.adminUrl}/faults`, { method: 'DELETE' });
  });

  it('cancels a long query', async () => {
    const fault = await fetch(`${stack.ready.adminUrl}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'delay', match: 'slow_e2e', ms: 60_000, during: 'execute' }),
    });
    expect(fault.status).toBe(201);
    // A GROUP BY runs a job on the cluster, whose progress Hive reports and the page shows.
    await page.getByLabel(/Hive query/).fill('SELECT asset_type, count(*) AS slow_e2e FROM enos.asset GROUP BY asset_type');
    await page.getByRole('button', { name: 'Run export' }).click();
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 15_000 }).toMatch(/^Running on Hive — [1-9]\d*% \(VERTICES: \d\d\/02\)$/);
    expect(await page.locator('#current-hive-progress').isVisible()).toBe(true);
    await shot('04-running');
    await page.getByRole('button', { name: 'Cancel export', exact: true }).click();
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 15_000 }).toBe('Cancelled');
    await fetch(`${stack.ready.adminUrl}/faults`, { method: 'DELETE' });
  });

  it('lists my exports and deletes one after confirmation, which kills its URL', async () => {
    await page.locator('#refresh-list').click();
    const rows = page.locator('#exports-body tr');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(2);
    await shot('05-my-exports');
    const ready = rows.filter({ hasText: 'Ready' }).first();
    await ready.getByRole('button', { name: /^Open/ }).click();
    const url = await page.locator('#download-url').inputValue();
    const before = await rows.count();

    page.once('dialog', (dialog) => void dialog.dismiss());
    await ready.getByRole('button', { name: /^Delete/ }).click();
    expect(await rows.count()).toBe(before);
    page.once('dialog', (dialog) => void dialog.accept());
    await ready.getByRole('button', { name: /^Delete/ }).click();
    await expect.poll(() => rows.count()).toBe(before - 1);
    expect((await fetch(url)).status).toBe(404);
  });

  it('opens an export with its query and format; Edit as new fills the editor, Run again makes a new export of it', async () => {
    // The formats the connector names in its catalog.
    expect(await page.locator('#format option').allTextContents()).toEqual(['CSV', 'CSV, gzip-compressed', 'Parquet (typed, compressed)']);
    await page.getByLabel(/Hive query/).fill('SELECT asset_id FROM enos.asset ORDER BY asset_id LIMIT 5');
    await page.getByLabel('Format').selectOption('csv.gz');
    await page.getByRole('button', { name: 'Run export' }).click();
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 30_000 }).toBe('Ready');
    const first = await page.locator('#current-id').textContent();
    await page.locator('#refresh-list').click();
    const rows = page.locator('#exports-body tr');
    await expect.poll(() => rows.first().locator('td').nth(2).textContent()).toBe('CSV, gzip');
    expect(await page.locator('#exports-table thead th').allTextContents()).toEqual(['Status', 'Query', 'Format', 'Rows', 'Size', 'Created', 'Expires', 'Actions']);

    // Another export opened (the cancelled one, which shows its query and format too), then this one again from the list.
    await rows.filter({ hasText: 'slow_e2e' }).first().getByRole('button', { name: /^Open/ }).click();
    await expect.poll(() => page.locator('#current-query').textContent()).toContain('slow_e2e');
    expect(await page.locator('#current-format').textContent()).toBe('CSV');
    expect(await page.locator('#current-status').textContent()).toBe('Cancelled');
    await rows.filter({ hasText: 'LIMIT 5' }).first().getByRole('button', { name: /^Open/ }).click();
    await expect.poll(() => page.locator('#current-query').textContent()).toBe('SELECT asset_id FROM enos.asset ORDER BY asset_id LIMIT 5');
    expect(await page.locator('#current-format').textContent()).toBe('CSV, gzip');

    await page.getByLabel(/Hive query/).fill('SELECT 1 AS something_else');
    await page.getByLabel('Format').selectOption('csv');
    await page.getByRole('button', { name: 'Edit as new' }).click();
    expect(await page.getByLabel(/Hive query/).inputValue()).toBe('SELECT asset_id FROM enos.asset ORDER BY asset_id LIMIT 5');
    expect(await page.getByLabel('Format').inputValue()).toBe('csv.gz');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('sql');

    await page.getByRole('button', { name: 'Run again' }).click();
    await expect.poll(() => page.locator('#current-id').textContent()).not.toBe(first);
    await expect.poll(() => page.locator('#current-status').textContent(), { timeout: 30_000 }).toBe('Ready');
    expect(await page.locator('#current-query').textContent()).toBe('SELECT asset_id FROM enos.asset ORDER BY asset_id LIMIT 5');
    expect(await page.locator('#current-format').textContent()).toBe('CSV, gzip');
    expect(await page.locator('#pandas-snippet').textContent()).toContain('compression="gzip"');
  });

  it('works at phone width without horizontal scrolling, with visible keyboard focus', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.keyboard.press('Tab');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const focusOutline = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      return element ? getComputedStyle(element).outlineStyle : 'none';
    });
    expect(focusOutline).not.toBe('none');
    await shot('06-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('pages through my exports, ten at a time, newest first', async () => {
    const token = await pageSessionToken(page);
    const call = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${stack.ready.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await response.json()) as any;
    };
    // Small exports, one at a time (two per user may be queued or running).
    for (let n = (await call('GET', '/api/v1/exports')).exports.length; n < 13; n++) {
      const job = await call('POST', '/api/v1/exports', { sql: `SELECT ${n} AS page_e2e` });
      await expect.poll(async () => (await call('GET', `/api/v1/exports/${job.id}`)).status, { timeout: 30_000 }).toBe('succeeded');
    }
    const total = (await call('GET', '/api/v1/exports')).exports.length;
    await page.locator('#refresh-list').click();
    const rows = page.locator('#exports-body tr');
    await expect.poll(() => page.locator('#exports-page').textContent()).toBe(`1–10 of ${total}`);
    expect(await rows.count()).toBe(10);
    expect(await page.locator('#exports-prev').isDisabled()).toBe(true);
    const newest = await rows.first().locator('td.query').textContent();
    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => page.locator('#exports-page').textContent()).toBe(`11–${Math.min(20, total)} of ${total}`);
    expect(await rows.count()).toBe(Math.min(10, total - 10));
    expect(await rows.first().locator('td.query').textContent()).not.toBe(newest);
    await shot('07-paging');
    await page.getByRole('button', { name: 'Newer' }).click();
    await expect.poll(() => rows.first().locator('td.query').textContent()).toBe(newest);
  });

  it('signs out, and the old token stops working', async () => {
    const token = await pageSessionToken(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.locator('#sign-in').isVisible()).toBe(true);
    const response = await fetch(`${stack.ready.url}/api/v1/exports`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
  });

  it('raised no console errors and no CSP violations', () => {
    // The refused queries and the wrong password answer 400, 401 and 403 on purpose.
    const unexpected = unexpectedProblems(browser.problems, [400, 401, 403]);
    if (unexpected.length > 0) process.stderr.write(`${unexpected.join('\n')}\n`);
    expect(unexpected).toEqual([]);
  });
});

/**
 * The governance parts of the web page in Debian's Chromium (playwright-core) against the real
 * local stack: an access token made on the page, its secret shown once, used from a script and
 * revoked; a refreshing export made from the editor's query, whose stable URL serves the data
 * and can be paused, resumed, revoked and deleted; the audit trail with its CSV, and an auditor
 * reading the whole organization's. No console errors, no Content-Security-Policy violations.
 * Screenshots go to test-results/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildService } from '../../scripts/lib/child-service.js';
import { openBrowserPage, signInOnPage, startLocalStack, unexpectedProblems, type BrowserPage, type LocalStackReady } from '../support/web-page-session.js';

let stack: ChildService<LocalStackReady>;
let browser: BrowserPage;
let page: Page;

const shot = (name: string) => browser.shot(name);
const signIn = (username: string, password: string) => signInOnPage(page, username, password);

beforeAll(async () => {
  stack = await startLocalStack({
    seedRows: 2000,
    dataDirPrefix: 'e2e-governance-',
    // Slots seconds apart and a tick every second, so refreshes happen while the test watches.
    env: { SCHEDULE_MIN_INTERVAL_SECONDS: '1', SCHEDULE_TICK_SECONDS: '1' },
  });
  browser = await openBrowserPage(stack.ready.url, { acceptDownloads: true });
  page = browser.page;
  await page.goto(stack.ready.url);
  await signIn('demo', 'demo-password');
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the governance parts of the web page', () => {
  it('makes an access token, shows its secret once, and revokes it', async () => {
    await page.getByLabel('Name', { exact: true }).nth(1).fill('e2e pipeline');
    await page.getByLabel('Valid for', { exact: true }).selectOption('30');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => page.locator('#token-created').isVisible()).toBe(true);
    const secret = await page.locator('#token-secret').inputValue();
    expect(secret).toMatch(/^enosaml_pat_[A-Za-z0-9_-]{43}_[0-9a-f]{8}$/);
    await page.locator('#copy-token').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await expect.poll(() => page.locator('#tokens-body').textContent()).toContain('e2e pipeline');
    await shot('07-access-token-created');
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(secret);

    const asScript = () => fetch(`${stack.ready.url}/api/v1/exports`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await asScript()).status).toBe(200);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Revoke token e2e pipeline' }).click();
    await expect.poll(() => page.locator('#tokens-body').textContent()).toContain('Revoked');
    expect((await asScript()).status).toBe(401);
  });

  it('makes the query refreshing: its stable URL serves the data, and can be paused, resumed, revoked and deleted', async () => {
    await page.getByLabel(/Hive query/).fill('SELECT asset_id, name FROM enos.asset ORDER BY asset_id LIMIT 4');
    await page.getByLabel('Name', { exact: true }).first().fill('assets e2e');
    await page.getByLabel('Refresh', { exact: true }).selectOption('custom');
    await page.getByLabel(/^Cron/).fill('*/10 * * * * *');
    await page.getByLabel('Results kept').fill('2');
    await page.getByRole('button', { name: 'Make the query above refreshing' }).click();
    const row = page.locator('#schedules-body tr', { hasText: 'assets e2e' });
    await expect.poll(() => row.textContent(), { timeout: 45_000 }).toMatch(/Succeeded/);
    await row.getByText(/^History/).click();
    expect(await row.locator('.history').textContent()).toMatch(/succeeded, 4 rows — served by the stable URL/);
    const stableUrl = await page.getByLabel('Stable URL of assets e2e', { exact: true }).inputValue();
    expect(stableUrl).toMatch(new RegExp(`^${stack.ready.url}/l/[A-Za-z0-9_-]{43}$`));
    await shot('08-refreshing-export');

    const data = await fetch(stableUrl);
    expect(data.status).toBe(200);
    expect(parse(await data.text())).toEqual([['asset_id', 'name'], ...Array.from({ length: 4 }, () => [expect.any(String), expect.any(String)])]);

    await row.getByRole('button', { name: 'Pause assets e2e' }).click();
    await expect.poll(() => row.textContent()).toMatch(/Paused/);
    expect((await fetch(stableUrl)).status).toBe(200);
    await row.getByRole('button', { name: 'Resume assets e2e' }).click();
    await expect.poll(() => row.textContent()).toMatch(/Active/);

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Revoke link assets e2e' }).click();
    await expect.poll(() => row.textContent()).toMatch(/Revoked/);
    expect((await fetch(stableUrl, { redirect: 'manual' })).status).toBe(410);

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: 'Delete assets e2e' }).click();
    await expect.poll(() => page.locator('#schedules-body tr', { hasText: 'assets e2e' }).count()).toBe(0);
  });

  it('shows my audit trail and downloads it as CSV', async () => {
    await page.locator('#refresh-audit').click();
    await expect.poll(() => page.locator('#audit-body').textContent()).toContain('token.revoked');
    const trail = (await page.locator('#audit-body').textContent()) ?? '';
    for (const type of ['signin.succeeded', 'token.created', 'schedule.created', 'export.submitted', 'schedule.link_served', 'schedule.deleted']) expect(trail).toContain(type);
    expect(await page.locator('#audit-scope-row').isVisible()).toBe(false);
    await shot('09-audit-trail');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const rows = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as { type: string; userName: string }[];
    expect(rows.map((row) => row.type)).toContain('token.created');
    expect(new Set(rows.map((row) => row.userName))).toEqual(new Set(['demo']));
  });

  it("lets an auditor read the whole organization's trail", async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.locator('#sign-in').isVisible()).toBe(true);
    await signIn('auditor', 'auditor-password');
    await expect.poll(() => page.locator('#audit-scope-row').isVisible()).toBe(true);
    await page.getByLabel('Events of').selectOption('organization');
    await expect.poll(() => page.locator('#audit-body').textContent()).toContain('schedule.created');
    const who = await page.locator('#audit-body tr td:nth-child(2)').allTextContents();
    expect(new Set(who)).toEqual(new Set(['demo', 'auditor']));
    await shot('10-auditor');
  });

  it('raised no console errors and no CSP violations', () => {
    const unexpected = unexpectedProblems(browser.problems, [400, 401, 403, 410]);
    expect(unexpected).toEqual([]);
  });
});

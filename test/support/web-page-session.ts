/**
 * What every browser test of the web page starts from: the real local stack (`npm start`'s
 * script) in a scratch data folder on free ports, and Debian's Chromium driven by
 * playwright-core on a page that records console errors and Content-Security-Policy violations.
 * One place for it, so the page's suites (test/e2e/web-page*.test.ts, governance-page.test.ts)
 * start the product the same way and check the same things about the page's health.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startChildService, tsxArgs, type ChildService } from '../../scripts/lib/child-service.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Screenshots of the main screens (git-ignored; CI keeps them as artifacts). */
const SHOTS = path.join(ROOT, 'test-results/screenshots');
/** Debian's Chromium, installed by .ci/run. */
const CHROMIUM = '/usr/bin/chromium';

export interface LocalStackReady {
  /** The connector, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The Hive stand-in's fault hooks (POST/DELETE {adminUrl}/faults). */
  adminUrl: string;
}

export interface LocalStackOptions {
  /** Rows of enos.measurement. */
  seedRows: number;
  /** Prefix of the scratch data folder, so a leftover one says which suite made it. */
  dataDirPrefix: string;
  /** Extra settings for the stack and the connector it starts (env-style keys), e.g. `EXPORT_PART_MAX_BYTES`. */
  env?: Record<string, string>;
}

/** `npm start`'s script from an empty data folder, the connector on a free port; resolves once it is ready. */
export async function startLocalStack(options: LocalStackOptions): Promise<ChildService<LocalStackReady>> {
  let url: string | undefined;
  return startChildService<LocalStackReady>({
    name: 'local-stack',
    command: process.execPath,
    args: tsxArgs(path.join(ROOT, 'scripts/local-stack.ts')),
    env: {
      // The child needs the machine's PATH and HOME; the stack passes its environment on to the connector.
      ...process.env,
      PORT: '0',
      HIVE_SEED_ROWS: String(options.seedRows),
      LOCAL_STACK_DIR: mkdtempSync(path.join(tmpdir(), options.dataDirPrefix)),
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    timeoutMs: 180_000,
    readyWhen: (line) => {
      const ready = /^Connector ready at (http:\/\/\S+)$/.exec(line);
      if (ready) url = ready[1];
      const admin = /fault hooks.*: (http:\/\/\S+)$/.exec(line);
      return url && admin ? { url, adminUrl: admin[1]! } : undefined;
    },
  });
}

export interface BrowserPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations seen so far, one line each. */
  problems: string[];
  /** Saves a full-page screenshot as test-results/screenshots/<name>.png. */
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** A headless Chromium page on the stack's origin, with the clipboard allowed, recording what goes wrong. */
export async function openBrowserPage(origin: string, options: { acceptDownloads?: boolean } = {}): Promise<BrowserPage> {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: options.acceptDownloads ?? false });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content.Security.Policy|Refused to/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Record CSP violations from inside the page too: they are events, not always console lines.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return {
    browser,
    context,
    page,
    problems,
    shot: async (name) => {
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    },
    close: () => browser.close(),
  };
}

/**
 * The problems that are not part of the flow: a 4xx the flow provokes on purpose (a refused
 * query, a wrong password) shows up as the console line of a failed fetch, and is expected.
 */
export function unexpectedProblems(problems: readonly string[], expectedStatuses: readonly number[]): string[] {
  const expected = new RegExp(`Failed to load resource: the server responded with a status of (${expectedStatuses.join('|')})\\b`);
  return problems.filter((line) => !expected.test(line));
}

/** Signs in through the form and waits for the workspace. */
export async function signInOnPage(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('EnOS account', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#workspace').waitFor({ state: 'visible' });
}

/** The page's session token (sessionStorage), for checking through the API what the page shows. */
export async function pageSessionToken(page: Page): Promise<string> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('enos-aml-connector.session') ?? '{}').token as string);
}

/**
 * The web page: sign in, write a query (with a column browser and a preview of its first rows),
 * watch it run, copy the URL and the code that reads it in pandas or Azure ML, manage past
 * exports. Plain DOM code — the page is small enough that a framework would cost more than it
 * saves — and no inline script or style, so it runs under the connector's strict CSP.
 */
import { api, ApiError, storedSession, storeSession, type Catalog, type JobView } from './api.js';
import { renderCatalog } from './catalog.js';
import { $, setError, show } from './dom.js';
import { SqlEditor } from './editor.js';
import { renderList, wireList } from './exports-list.js';
import { countdown, formatBytes, formatChoice, formatCount, formatDuration, formatLocalTime, formatName, lifetimeChoices, statusText } from './format.js';
import { initGovernance, refreshGovernance } from './governance.js';
import { PREVIEW_ROWS, renderPreview } from './preview.js';
import { renderResult, wireResult } from './result.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired']);

let current: JobView | undefined;
let pollTimer: number | undefined;
let editor: SqlEditor;

/** A signed-out or expired session sends the user back to the sign-in form. */
function handleAuthFailure(error: unknown): boolean {
  if (error instanceof ApiError && error.status === 401 && error.code === 'unauthorized') {
    storeSession(undefined);
    render();
    return true;
  }
  return false;
}

/** An error about the query: its words under the editor, and its place marked in the query. */
function showQueryError(error: unknown): void {
  if (handleAuthFailure(error)) return;
  setError($('export-error'), error);
  if (error instanceof ApiError && error.position) editor.markError(error.position);
}

// ---- sign in / out ---------------------------------------------------------------------------

async function onSignIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const button = $<HTMLButtonElement>('sign-in-button');
  const username = $<HTMLInputElement>('username').value.trim();
  const password = $<HTMLInputElement>('password');
  if (!username || !password.value) {
    setError($('sign-in-error'), new Error('Enter your EnOS account and password.'));
    return;
  }
  button.disabled = true;
  try {
    storeSession(await api.signIn(username, password.value));
    password.value = '';
    setError($('sign-in-error'), undefined);
    render();
  } catch (error) {
    setError($('sign-in-error'), error);
    password.select();
  } finally {
    button.disabled = false;
  }
}

async function onSignOut(): Promise<void> {
  await api.signOut().catch(() => undefined);
  storeSession(undefined);
  current = undefined;
  window.clearTimeout(pollTimer);
  render();
}

// ---- catalog and form ------------------------------------------------------------------------

function applyCatalog(catalog: Catalog): void {
  renderCatalog(catalog, { editor, onAuthFailure: handleAuthFailure });
  // The server's one limit, so the editor stops where the API would refuse.
  $<HTMLTextAreaElement>('sql').maxLength = catalog.maxSqlLength;
  const ttl = $<HTMLSelectElement>('ttl');
  ttl.replaceChildren(
    ...lifetimeChoices(catalog.maxTtlMinutes).map(({ minutes, label }) => {
      const option = new Option(label, String(minutes));
      option.selected = minutes === catalog.defaultTtlMinutes;
      return option;
    }),
  );
  // The formats this connector writes, as it says; the choice made so far stays.
  const format = $<HTMLSelectElement>('format');
  const chosen = format.value;
  format.replaceChildren(...catalog.formats.map((name) => new Option(formatChoice(name), name, false, name === chosen)));
}

async function loadCatalog(): Promise<void> {
  try {
    applyCatalog(await api.catalog());
  } catch (error) {
    if (!handleAuthFailure(error)) setError($('export-error'), error);
  }
}

/** The query as written (the server's positions count in this text), or undefined after saying what is missing. */
function queryText(): string | undefined {
  const sql = editor.value;
  if (sql.trim()) return sql;
  setError($('export-error'), new Error('Write a SELECT query first.'));
  return undefined;
}

async function onSubmitExport(event?: Event): Promise<void> {
  event?.preventDefault();
  const sql = queryText();
  if (sql === undefined) return;
  const button = $<HTMLButtonElement>('run-export');
  button.disabled = true;
  try {
    track(await api.submit(sql, Number($<HTMLSelectElement>('ttl').value || 1440), $<HTMLSelectElement>('format').value));
    setError($('export-error'), undefined);
    editor.clearMark();
    void refreshList();
  } catch (error) {
    showQueryError(error);
  } finally {
    button.disabled = false;
  }
}

/** The open export's query and format once more, as a new export (its refusal shows on the export, not in the editor). */
async function runAgain(job: JobView): Promise<void> {
  const button = $<HTMLButtonElement>('run-again');
  button.disabled = true;
  try {
    track(await api.submit(job.sql, job.ttlMinutes, job.format));
    void refreshList();
  } catch (error) {
    if (!handleAuthFailure(error)) setError($('current-error'), error);
  } finally {
    button.disabled = false;
  }
}

async function onPreview(): Promise<void> {
  const sql = queryText();
  if (sql === undefined) return;
  const button = $<HTMLButtonElement>('preview-button');
  const section = $('preview');
  button.disabled = true;
  $('preview-status').textContent = 'Running the query for a preview…';
  try {
    const preview = await api.preview(sql, PREVIEW_ROWS);
    setError($('export-error'), undefined);
    editor.clearMark();
    renderPreview(preview, $<HTMLTableElement>('preview-table'), $('preview-note'));
    show(section, true);
    $('preview-status').textContent = '';
  } catch (error) {
    show(section, false);
    $('preview-status').textContent = '';
    showQueryError(error);
  } finally {
    button.disabled = false;
  }
}

// ---- the current export ----------------------------------------------------------------------

function track(job: JobView): void {
  current = job;
  renderCurrent();
  schedulePoll();
}

function schedulePoll(): void {
  window.clearTimeout(pollTimer);
  if (!current || FINAL.has(current.status)) return;
  pollTimer = window.setTimeout(async () => {
    if (!current) return;
    try {
      const next = await api.get(current.id);
      const finished = FINAL.has(next.status) && !FINAL.has(current.status);
      current = next;
      renderCurrent();
      if (finished) void refreshList();
    } catch (error) {
      if (handleAuthFailure(error)) return;
    }
    schedulePoll();
  }, 1000);
}

function renderCurrent(): void {
  const section = $('current');
  if (!current) {
    show(section, false);
    return;
  }
  const job = current;
  show(section, true);
  $('current-id').textContent = job.id.slice(0, 8);
  $('current-query').textContent = job.sql;
  $('current-format').textContent = formatName(job.format);
  const status = $('current-status');
  status.textContent = statusText(job);
  status.className = `status ${job.status}`;
  const hivePercent = job.status === 'running' ? job.progress.hive?.percent : undefined;
  const bar = $<HTMLProgressElement>('current-hive-progress');
  show(bar, hivePercent !== null && hivePercent !== undefined);
  if (hivePercent !== null && hivePercent !== undefined) bar.value = hivePercent;
  $('current-rows').textContent = formatCount(job.progress.rows);
  $('current-bytes').textContent = formatBytes(job.progress.bytes);
  renderElapsed();
  setError($('current-error'), job.error ? new Error(job.error.message) : undefined);
  show($('current-cancel'), !FINAL.has(job.status) && !job.cancelRequested);
  const ready = job.status === 'succeeded' && (job.downloadUrl !== null || (job.files?.length ?? 0) > 0);
  show($('result'), ready);
  if (ready) {
    renderResult(job);
    const expires = $<HTMLTimeElement>('expires-at');
    expires.dateTime = job.expiresAt ?? '';
    expires.textContent = formatLocalTime(job.expiresAt);
    show($('truncated-note'), job.truncated);
  }
}

function renderElapsed(): void {
  if (!current) return;
  const start = new Date(current.startedAt ?? current.createdAt).getTime();
  const end = current.finishedAt ? new Date(current.finishedAt).getTime() : Date.now();
  $('current-elapsed').textContent = formatDuration(end - start);
  if (current.expiresAt) $('countdown').textContent = countdown(current.expiresAt);
}

/** Puts an export's query and format into the editor, to change and run as a new export. */
function editAsNew(job: JobView): void {
  editor.set(job.sql);
  const format = $<HTMLSelectElement>('format');
  if (Array.from(format.options).some((option) => option.value === job.format)) format.value = job.format;
  $('new-export-title').scrollIntoView({ block: 'start' });
  editor.focus();
}

async function act(action: () => Promise<JobView | void>, errorTarget: HTMLElement): Promise<void> {
  try {
    const result = await action();
    setError(errorTarget, undefined);
    if (result && current && result.id === current.id) {
      current = result;
      renderCurrent();
      schedulePoll();
    }
  } catch (error) {
    if (!handleAuthFailure(error)) setError(errorTarget, error);
  }
  await refreshList();
}

// ---- my exports ------------------------------------------------------------------------------

async function refreshList(): Promise<void> {
  if (!storedSession()) return;
  try {
    renderList((await api.list()).exports);
    setError($('list-error'), undefined);
  } catch (error) {
    if (!handleAuthFailure(error)) setError($('list-error'), error);
  }
}

// ---- wiring ----------------------------------------------------------------------------------

function render(): void {
  const session = storedSession();
  show($('sign-in'), !session);
  show($('workspace'), Boolean(session));
  show($('whoami'), Boolean(session));
  if (session) {
    $('user-label').textContent = `${session.user.name} · ${session.user.organizationId}`;
    void loadCatalog();
    void refreshList();
    renderCurrent();
    refreshGovernance();
  } else {
    $<HTMLInputElement>('username').focus();
  }
}

function wire(): void {
  editor = new SqlEditor($<HTMLTextAreaElement>('sql'), $('sql-backdrop'));
  $<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => void onSignIn(event));
  $('sign-out').addEventListener('click', () => void onSignOut());
  $<HTMLFormElement>('export-form').addEventListener('submit', (event) => void onSubmitExport(event));
  $('preview-button').addEventListener('click', () => void onPreview());
  $('sql').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void onSubmitExport(event);
  });
  $('current-cancel').addEventListener('click', () => {
    if (current) void act(() => api.cancel(current!.id), $('current-error'));
  });
  $('run-again').addEventListener('click', () => {
    if (current) void runAgain(current);
  });
  $('edit-as-new').addEventListener('click', () => {
    if (current) editAsNew(current);
  });
  $('new-link').addEventListener('click', () => {
    if (current) void act(() => api.newLink(current!.id), $('current-error'));
  });
  wireResult();
  wireList({
    open: track,
    cancel: (job) => void act(() => api.cancel(job.id), $('list-error')),
    newLink: (job) => void act(() => api.newLink(job.id), $('list-error')),
    remove: (job) => {
      const name = `export ${job.id.slice(0, 8)}`;
      if (!window.confirm(`Delete ${name}? Its download URL stops working.`)) return;
      if (current?.id === job.id) {
        current = undefined;
        renderCurrent();
      }
      void act(() => api.remove(job.id), $('list-error'));
    },
  });
  $('refresh-list').addEventListener('click', () => void refreshList());
  initGovernance({
    onAuthFailure: handleAuthFailure,
    currentQuery: () => ({ sql: editor.value.trim(), format: $<HTMLSelectElement>('format').value }),
  });
  window.setInterval(renderElapsed, 1000);
  render();
}

wire();

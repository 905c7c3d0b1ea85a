/**
 * The web page: sign in, write a query, watch it run, copy the URL for Azure ML, manage past
 * exports. Plain DOM code — the page is small enough that a framework would cost more than it
 * saves — and no inline script or style, so it runs under the connector's strict CSP.
 */
import { api, ApiError, storedSession, storeSession, type Catalog, type ExportView } from './api.js';
import { $, actionButton, copyFrom, setError, show } from './dom.js';
import { amlSnippet, countdown, formatBytes, formatCount, formatDuration, formatLocalTime, lifetimeChoices } from './format.js';
import { initGovernance, refreshGovernance } from './governance.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired']);
const STATUS_TEXT: Record<ExportView['status'], string> = {
  queued: 'Queued — waiting for a free slot',
  running: 'Running on Hive',
  succeeded: 'Ready',
  failed: 'Failed',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

/** What a running export is doing, in the words of its phase; Hive's own progress when it has some. */
function runningText(progress: ExportView['progress']): string {
  switch (progress.phase) {
    case 'hive_pending':
      return 'Waiting for the Hive cluster';
    case 'hive_running': {
      const percent = progress.hive?.percent;
      const summary = progress.hive?.summary;
      return `Running on Hive${percent !== null && percent !== undefined ? ` — ${percent}%` : ''}${summary ? ` (${summary})` : ''}`;
    }
    case 'writing':
      return 'Writing rows';
    default:
      return STATUS_TEXT.running;
  }
}

let current: ExportView | undefined;
let pollTimer: number | undefined;

/** A signed-out or expired session sends the user back to the sign-in form. */
function handleAuthFailure(error: unknown): boolean {
  if (error instanceof ApiError && error.status === 401 && error.code === 'unauthorized') {
    storeSession(undefined);
    render();
    return true;
  }
  return false;
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

function renderCatalog(catalog: Catalog): void {
  const container = $('catalog');
  container.replaceChildren();
  for (const database of catalog.databases) {
    const heading = document.createElement('h4');
    heading.textContent = database.name;
    container.append(heading);
    if (!database.tables) {
      const note = document.createElement('p');
      note.className = 'hint';
      note.textContent = 'Tables could not be listed right now.';
      container.append(note);
      continue;
    }
    const list = document.createElement('ul');
    for (const table of database.tables) {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary';
      button.textContent = table;
      button.setAttribute('aria-label', `Query ${database.name}.${table}`);
      button.addEventListener('click', () => {
        const sql = $<HTMLTextAreaElement>('sql');
        sql.value = `SELECT * FROM ${database.name}.${table} LIMIT 1000`;
        sql.focus();
      });
      item.append(button);
      list.append(item);
    }
    container.append(list);
  }
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
}

async function loadCatalog(): Promise<void> {
  try {
    renderCatalog(await api.catalog());
  } catch (error) {
    if (!handleAuthFailure(error)) setError($('export-error'), error);
  }
}

async function onSubmitExport(event?: Event): Promise<void> {
  event?.preventDefault();
  const button = $<HTMLButtonElement>('run-export');
  const sql = $<HTMLTextAreaElement>('sql').value.trim();
  if (!sql) {
    setError($('export-error'), new Error('Write a SELECT query first.'));
    return;
  }
  button.disabled = true;
  try {
    const job = await api.submit(sql, Number($<HTMLSelectElement>('ttl').value || 1440), $<HTMLSelectElement>('format').value);
    setError($('export-error'), undefined);
    track(job);
    void refreshList();
  } catch (error) {
    if (!handleAuthFailure(error)) setError($('export-error'), error);
  } finally {
    button.disabled = false;
  }
}

// ---- the current export ----------------------------------------------------------------------

function track(job: ExportView): void {
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
  const status = $('current-status');
  status.textContent =
    job.cancelRequested && !FINAL.has(job.status) ? 'Cancelling…' : job.status === 'running' ? runningText(job.progress) : STATUS_TEXT[job.status];
  const hivePercent = job.status === 'running' ? job.progress.hive?.percent : undefined;
  const bar = $<HTMLProgressElement>('current-hive-progress');
  show(bar, hivePercent !== null && hivePercent !== undefined);
  if (hivePercent !== null && hivePercent !== undefined) bar.value = hivePercent;
  status.className = `status ${job.status}`;
  $('current-rows').textContent = formatCount(job.progress.rows);
  $('current-bytes').textContent = formatBytes(job.progress.bytes);
  renderElapsed();
  setError($('current-error'), job.error ? new Error(job.error.message) : undefined);
  show($('current-cancel'), !FINAL.has(job.status) && !job.cancelRequested);
  const ready = job.status === 'succeeded' && job.downloadUrl !== null;
  show($('result'), ready);
  if (ready) {
    $<HTMLInputElement>('download-url').value = job.downloadUrl!;
    const expires = $<HTMLTimeElement>('expires-at');
    expires.dateTime = job.expiresAt ?? '';
    expires.textContent = formatLocalTime(job.expiresAt);
    $('aml-snippet').textContent = amlSnippet(job.downloadUrl!, job.format);
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

async function copyUrl(): Promise<void> {
  await copyFrom($<HTMLInputElement>('download-url'), $('copy-feedback'));
}

async function act(action: () => Promise<ExportView | void>, errorTarget: HTMLElement): Promise<void> {
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

function renderList(exports: ExportView[]): void {
  const body = $('exports-body');
  body.replaceChildren();
  show($('list-empty'), exports.length === 0);
  for (const job of exports) {
    const row = document.createElement('tr');
    const cell = (text: string, className?: string) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (className) td.className = className;
      row.append(td);
      return td;
    };
    cell(STATUS_TEXT[job.status].split(' —')[0]!);
    cell(job.sql, 'query').title = job.sql;
    cell(formatCount(job.progress.rows), 'num');
    cell(formatBytes(job.progress.bytes), 'num');
    cell(formatLocalTime(job.createdAt));
    cell(job.status === 'succeeded' ? formatLocalTime(job.expiresAt) : '—');
    const actions = document.createElement('div');
    actions.className = 'actions';
    const name = `export ${job.id.slice(0, 8)}`;
    if (job.status === 'succeeded') actions.append(actionButton('Open', name, () => track(job)));
    if (!FINAL.has(job.status)) actions.append(actionButton('Cancel', name, () => void act(() => api.cancel(job.id), $('list-error'))));
    if (job.status === 'succeeded') actions.append(actionButton('New link', name, () => void act(() => api.newLink(job.id), $('list-error'))));
    actions.append(
      actionButton(
        'Delete',
        name,
        () => {
          if (!window.confirm(`Delete ${name}? Its download URL stops working.`)) return;
          if (current?.id === job.id) {
            current = undefined;
            renderCurrent();
          }
          void act(() => api.remove(job.id), $('list-error'));
        },
        'danger',
      ),
    );
    const td = document.createElement('td');
    td.append(actions);
    row.append(td);
    body.append(row);
  }
}

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
  $<HTMLFormElement>('sign-in-form').addEventListener('submit', (event) => void onSignIn(event));
  $('sign-out').addEventListener('click', () => void onSignOut());
  $<HTMLFormElement>('export-form').addEventListener('submit', (event) => void onSubmitExport(event));
  $('sql').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void onSubmitExport(event);
  });
  $('current-cancel').addEventListener('click', () => {
    if (current) void act(() => api.cancel(current!.id), $('current-error'));
  });
  $('copy-url').addEventListener('click', () => void copyUrl());
  $('new-link').addEventListener('click', () => {
    if (current) void act(() => api.newLink(current!.id), $('current-error'));
  });
  $('refresh-list').addEventListener('click', () => void refreshList());
  initGovernance({
    onAuthFailure: handleAuthFailure,
    currentQuery: () => ({ sql: $<HTMLTextAreaElement>('sql').value.trim(), format: $<HTMLSelectElement>('format').value }),
  });
  window.setInterval(renderElapsed, 1000);
  render();
}

wire();

/**
 * The page's governance parts: refreshing exports (a schedule and one stable URL for Azure ML),
 * personal access tokens for automation (the secret shown once), and the audit trail (one's own
 * events, or the organization's for its auditors, and the CSV). Plain DOM, like the rest.
 */
import { api, type AuditEventView, type ScheduleView, type TokenView } from './api.js';
import { $, actionButton, cell, copyFrom, setError, show } from './dom.js';
import { formatLocalTime } from './format.js';

interface Hooks {
  /** True when the error meant "signed out" and the page went back to the sign-in form. */
  onAuthFailure(error: unknown): boolean;
  /** The query in the editor, to make refreshing. */
  currentQuery(): { sql: string; format: string };
}

let hooks: Hooks;
let schedulePoll: number | undefined;
const openHistories = new Set<string>();

async function attempt(work: () => Promise<unknown>, errorTarget: HTMLElement): Promise<boolean> {
  try {
    await work();
    setError(errorTarget, undefined);
    return true;
  } catch (error) {
    if (!hooks.onAuthFailure(error)) setError(errorTarget, error);
    return false;
  }
}

// ---- refreshing exports ----------------------------------------------------------------------

const SCHEDULE_STATUS = (schedule: ScheduleView): string => {
  if (schedule.status === 'active') return 'Active';
  return schedule.pausedReason === 'account_inactive' ? 'Paused — your EnOS account is not active' : 'Paused';
};

function lastRunText(schedule: ScheduleView): string {
  const run = schedule.lastRun;
  if (!run) return 'Not run yet';
  if (run.status === 'failed') return `Failed: ${run.error?.message ?? 'unknown error'}`;
  if (run.status === 'succeeded') return `Succeeded ${formatLocalTime(run.finishedAt)} (${run.rows ?? 0} rows)`;
  return run.status === 'queued' ? 'Queued' : 'Running';
}

/** Every run kept, newest first: when, how it ended, and which one the stable URL serves. */
function runHistory(schedule: ScheduleView): HTMLDetailsElement {
  const details = document.createElement('details');
  // The list is redrawn while runs are under way; an opened history stays open.
  details.open = openHistories.has(schedule.id);
  details.addEventListener('toggle', () => (details.open ? openHistories.add(schedule.id) : openHistories.delete(schedule.id)));
  const summary = document.createElement('summary');
  summary.textContent = `History (${schedule.runs.length} run${schedule.runs.length === 1 ? '' : 's'})`;
  const list = document.createElement('ol');
  list.className = 'history';
  for (const run of schedule.runs) {
    const item = document.createElement('li');
    const outcome = run.status === 'failed' ? `failed: ${run.error?.message ?? 'unknown error'}` : run.status === 'succeeded' ? `succeeded, ${run.rows ?? 0} rows` : run.status;
    const serving = schedule.serving && run.exportId === schedule.serving.exportId ? ' — served by the stable URL' : '';
    item.textContent = `${formatLocalTime(run.slot)}: ${outcome}${serving}`;
    if (run.status === 'failed') item.className = 'error';
    list.append(item);
  }
  details.append(summary, list);
  return details;
}

function renderSchedules(schedules: ScheduleView[]): void {
  const body = $('schedules-body');
  body.replaceChildren();
  show($('schedules-empty'), schedules.length === 0);
  for (const schedule of schedules) {
    const row = document.createElement('tr');
    cell(row, schedule.name);
    cell(row, schedule.cron, 'mono');
    cell(row, SCHEDULE_STATUS(schedule));
    cell(row, schedule.nextRunAt ? formatLocalTime(schedule.nextRunAt) : '—');
    const last = cell(row, lastRunText(schedule));
    if (schedule.lastRun?.status === 'failed') last.className = 'error';
    if (schedule.runs.length > 0) last.append(runHistory(schedule));
    const link = document.createElement('td');
    if (schedule.stableUrl) {
      const input = document.createElement('input');
      input.readOnly = true;
      input.className = 'mono';
      input.value = schedule.stableUrl;
      input.setAttribute('aria-label', `Stable URL of ${schedule.name}`);
      const feedback = document.createElement('span');
      feedback.className = 'hint';
      feedback.setAttribute('role', 'status');
      link.append(input, actionButton('Copy', `stable URL of ${schedule.name}`, () => void copyFrom(input, feedback)), feedback);
      if (!schedule.serving) link.append(Object.assign(document.createElement('p'), { className: 'hint', textContent: 'Works once the first refresh has finished.' }));
    } else {
      link.textContent = schedule.linkRevoked ? 'Revoked' : 'Expired';
    }
    row.append(link);
    const actions = document.createElement('div');
    actions.className = 'actions';
    const name = schedule.name;
    const act = (work: () => Promise<unknown>) => void attempt(work, $('schedules-error')).then(() => refreshSchedules());
    if (schedule.status === 'active') actions.append(actionButton('Pause', name, () => act(() => api.pauseSchedule(schedule.id))));
    else actions.append(actionButton('Resume', name, () => act(() => api.resumeSchedule(schedule.id))));
    if (schedule.stableUrl) {
      actions.append(
        actionButton('Revoke link', name, () => {
          if (window.confirm(`Revoke the stable URL of ${name}? Azure ML data assets using it stop working.`)) act(() => api.revokeStableLink(schedule.id));
        }),
      );
    } else {
      actions.append(actionButton('New link', name, () => act(() => api.newStableLink(schedule.id))));
    }
    actions.append(
      actionButton(
        'Delete',
        name,
        () => {
          if (window.confirm(`Delete ${name}, its stable URL and its results?`)) act(() => api.removeSchedule(schedule.id));
        },
        'danger',
      ),
    );
    const td = document.createElement('td');
    td.append(actions);
    row.append(td);
    body.append(row);
  }
  // While a run is on its way, look again shortly.
  window.clearTimeout(schedulePoll);
  if (schedules.some((schedule) => schedule.lastRun && ['queued', 'running'].includes(schedule.lastRun.status))) {
    schedulePoll = window.setTimeout(() => void refreshSchedules(), 2000);
  }
}

async function refreshSchedules(): Promise<void> {
  await attempt(async () => renderSchedules((await api.schedules()).schedules), $('schedules-error'));
}

async function onCreateSchedule(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const { sql, format } = hooks.currentQuery();
  const preset = $<HTMLSelectElement>('schedule-cron').value;
  const cron = preset === 'custom' ? $<HTMLInputElement>('schedule-cron-custom').value.trim() : preset;
  const name = $<HTMLInputElement>('schedule-name').value.trim();
  if (!sql || !name || !cron) {
    setError($('schedules-error'), new Error('Write the query above, and give the data set a name and a schedule.'));
    return;
  }
  const keepLast = Number($<HTMLInputElement>('schedule-keep').value || 3);
  if (await attempt(() => api.createSchedule({ name, sql, format, cron, keepLast }), $('schedules-error'))) {
    $<HTMLFormElement>('schedule-form').reset();
    show($('schedule-cron-custom-row'), false);
    await refreshSchedules();
  }
}

// ---- access tokens ---------------------------------------------------------------------------

function renderTokens(tokens: TokenView[]): void {
  const body = $('tokens-body');
  body.replaceChildren();
  show($('tokens-empty'), tokens.length === 0);
  for (const token of tokens) {
    const row = document.createElement('tr');
    cell(row, token.name);
    cell(row, token.status === 'active' ? 'Active' : token.status === 'revoked' ? 'Revoked' : 'Expired');
    cell(row, formatLocalTime(token.createdAt));
    cell(row, token.lastUsedAt ? formatLocalTime(token.lastUsedAt) : 'Never');
    cell(row, formatLocalTime(token.expiresAt));
    const td = document.createElement('td');
    if (token.status === 'active') {
      td.append(
        actionButton(
          'Revoke',
          `token ${token.name}`,
          () => {
            if (!window.confirm(`Revoke the token "${token.name}"? Anything using it stops working at once.`)) return;
            void attempt(() => api.revokeToken(token.id), $('tokens-error')).then(() => refreshTokens());
          },
          'danger',
        ),
      );
    }
    row.append(td);
    body.append(row);
  }
}

async function refreshTokens(): Promise<void> {
  await attempt(async () => renderTokens((await api.tokens()).tokens), $('tokens-error'));
}

async function onCreateToken(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const name = $<HTMLInputElement>('token-name').value.trim();
  if (!name) {
    setError($('tokens-error'), new Error('Name the token after what will use it.'));
    return;
  }
  const days = Number($<HTMLSelectElement>('token-days').value);
  await attempt(async () => {
    const created = await api.createToken(name, days);
    $<HTMLInputElement>('token-secret').value = created.secret;
    $('token-secret-feedback').textContent = '';
    show($('token-created'), true);
    $<HTMLFormElement>('token-form').reset();
  }, $('tokens-error'));
  await refreshTokens();
}

// ---- audit trail -----------------------------------------------------------------------------

const scope = (): 'mine' | 'organization' => ($<HTMLSelectElement>('audit-scope').value === 'organization' ? 'organization' : 'mine');

function renderAudit(events: AuditEventView[]): void {
  const body = $('audit-body');
  body.replaceChildren();
  show($('audit-empty'), events.length === 0);
  for (const event of events) {
    const row = document.createElement('tr');
    cell(row, formatLocalTime(event.at));
    cell(row, event.userName ?? '—');
    cell(row, event.type, event.outcome === 'failure' ? 'error' : undefined);
    cell(row, event.clientAddress ?? '—', 'mono');
    const what = cell(row, [event.sql, event.detail, event.reason].filter(Boolean).join(' · ') || '—', 'query');
    what.title = what.textContent ?? '';
    body.append(row);
  }
}

async function refreshAudit(): Promise<void> {
  await attempt(async () => renderAudit((await api.audit(scope())).events), $('audit-error'));
}

async function downloadAuditCsv(): Promise<void> {
  await attempt(async () => {
    const blob = await api.auditCsv(scope());
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `audit-${scope()}-${new Date().toISOString().slice(0, 10)}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }, $('audit-error'));
}

// ---- wiring ----------------------------------------------------------------------------------

/** After sign-in: what the user may see depends on who they are. */
export function refreshGovernance(): void {
  show($('token-created'), false);
  void refreshSchedules();
  void refreshTokens();
  void attempt(async () => {
    const me = await api.me();
    const auditor = me.roles.includes('auditor');
    show($('audit-scope-row'), auditor);
    if (!auditor) $<HTMLSelectElement>('audit-scope').value = 'mine';
  }, $('audit-error')).then(() => refreshAudit());
}

export function initGovernance(pageHooks: Hooks): void {
  hooks = pageHooks;
  $<HTMLFormElement>('schedule-form').addEventListener('submit', (event) => void onCreateSchedule(event));
  $<HTMLSelectElement>('schedule-cron').addEventListener('change', () => show($('schedule-cron-custom-row'), $<HTMLSelectElement>('schedule-cron').value === 'custom'));
  $('refresh-schedules').addEventListener('click', () => void refreshSchedules());
  $<HTMLFormElement>('token-form').addEventListener('submit', (event) => void onCreateToken(event));
  $('copy-token').addEventListener('click', () => void copyFrom($<HTMLInputElement>('token-secret'), $('token-secret-feedback')));
  $('token-done').addEventListener('click', () => {
    // The secret leaves the page once the user says they have it.
    $<HTMLInputElement>('token-secret').value = '';
    show($('token-created'), false);
  });
  $<HTMLSelectElement>('audit-scope').addEventListener('change', () => void refreshAudit());
  $('refresh-audit').addEventListener('click', () => void refreshAudit());
  $('download-audit').addEventListener('click', () => void downloadAuditCsv());
}

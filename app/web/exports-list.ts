/**
 * "My exports": the caller's exports, newest first, a page at a time, with each one's status in
 * honest words, its format, and what can be done with it.
 */
import type { JobView } from './api.js';
import { $, actionButton, cell, show } from './dom.js';
import { formatBytes, formatCount, formatLocalTime, formatName, statusText } from './format.js';

export const PAGE_SIZE = 10;

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired']);

export interface ListActions {
  open(job: JobView): void;
  cancel(job: JobView): void;
  newLink(job: JobView): void;
  remove(job: JobView): void;
}

let page = 0;
let all: JobView[] = [];
let actions: ListActions;

/** "11–20 of 23": the first and last shown, 1-based, and how many there are. */
export function pageRange(pageIndex: number, total: number, size = PAGE_SIZE): { first: number; last: number; pages: number } {
  const pages = Math.max(1, Math.ceil(total / size));
  const index = Math.min(Math.max(0, pageIndex), pages - 1);
  return { first: total === 0 ? 0 : index * size + 1, last: Math.min(total, (index + 1) * size), pages };
}

function row(job: JobView): HTMLTableRowElement {
  const tr = document.createElement('tr');
  cell(tr, statusText(job, true));
  cell(tr, job.sql, 'query').title = job.sql;
  cell(tr, formatName(job.format));
  cell(tr, formatCount(job.progress.rows), 'num');
  cell(tr, formatBytes(job.progress.bytes), 'num');
  cell(tr, formatLocalTime(job.createdAt));
  cell(tr, job.status === 'succeeded' ? formatLocalTime(job.expiresAt) : '—');
  const buttons = document.createElement('div');
  buttons.className = 'actions';
  const name = `export ${job.id.slice(0, 8)}`;
  buttons.append(actionButton('Open', name, () => actions.open(job)));
  if (!FINAL.has(job.status)) buttons.append(actionButton('Cancel', name, () => actions.cancel(job)));
  if (job.status === 'succeeded') buttons.append(actionButton('New link', name, () => actions.newLink(job)));
  buttons.append(actionButton('Delete', name, () => actions.remove(job), 'danger'));
  const td = document.createElement('td');
  td.append(buttons);
  tr.append(td);
  return tr;
}

function renderPage(): void {
  const { first, last, pages } = pageRange(page, all.length);
  page = Math.min(page, pages - 1);
  $('exports-body').replaceChildren(...all.slice(first === 0 ? 0 : first - 1, last).map(row));
  show($('list-empty'), all.length === 0);
  show($('exports-paging'), all.length > PAGE_SIZE);
  $('exports-page').textContent = `${first}–${last} of ${all.length}`;
  $<HTMLButtonElement>('exports-prev').disabled = page === 0;
  $<HTMLButtonElement>('exports-next').disabled = page >= pages - 1;
}

/** Shows the list; the page stays where the user left it (or the last one, if the list shrank). */
export function renderList(exports: JobView[]): void {
  all = exports;
  renderPage();
}

export function wireList(listActions: ListActions): void {
  actions = listActions;
  $('exports-prev').addEventListener('click', () => {
    page = Math.max(0, page - 1);
    renderPage();
  });
  $('exports-next').addEventListener('click', () => {
    page += 1;
    renderPage();
  });
}

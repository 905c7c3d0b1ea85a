/**
 * The preview before running: the first rows of the query in a table (POST /api/v1/previews, which
 * writes no file), with each column's Hive type under its name. NULL is shown as NULL, an empty
 * string as an empty cell marked as such, so the two never look alike.
 */
import type { Preview } from './api.js';

export const PREVIEW_ROWS = 20;

/**
 * Hive's numeric types (`decimal(38,6)` included): their cells are shown whole and right-aligned,
 * never cut to an ellipsis, which would read as another number.
 */
export function isNumericType(type: string): boolean {
  return /^(tinyint|smallint|int|integer|bigint|float|double|decimal|numeric)\b/i.test(type.trim());
}

/** How one value is shown: its text, and a class for what is not plain data. */
export function previewCell(value: Preview['rows'][number][number]): { text: string; className?: string; title?: string } {
  if (value === null) return { text: 'NULL', className: 'null' };
  if (value === '') return { text: '', className: 'empty', title: 'empty string' };
  return { text: String(value) };
}

export function renderPreview(preview: Preview, table: HTMLTableElement, note: HTMLElement): void {
  const head = document.createElement('thead');
  const headRow = document.createElement('tr');
  const numeric = preview.schema.map((column) => isNumericType(column.type));
  for (const [i, column] of preview.schema.entries()) {
    const th = document.createElement('th');
    th.scope = 'col';
    if (numeric[i]) th.className = 'num';
    const type = document.createElement('span');
    type.className = 'type';
    type.textContent = column.type;
    th.append(column.name, document.createElement('br'), type);
    headRow.append(th);
  }
  head.append(headRow);
  const body = document.createElement('tbody');
  for (const row of preview.rows) {
    const tr = document.createElement('tr');
    for (const [i, value] of row.entries()) {
      const td = document.createElement('td');
      const { text, className, title } = previewCell(value);
      td.textContent = text;
      if (numeric[i]) td.classList.add('num');
      if (className) td.classList.add(className);
      if (title) td.title = title;
      tr.append(td);
    }
    body.append(tr);
  }
  const caption = document.createElement('caption');
  caption.className = 'visually-hidden';
  caption.textContent = 'The first rows of the query';
  table.replaceChildren(caption, head, body);
  note.textContent =
    preview.rows.length === 0
      ? 'The query returns no rows.'
      : `${preview.rows.length} row${preview.rows.length === 1 ? '' : 's'}${preview.truncated ? ', the first of more' : ', all there are'}.`;
}

/**
 * "Your data": the databases and tables the organization may export, each table a button that
 * writes a query for it, and a column browser that asks the server for a table's columns and
 * types only when it is opened (GET /api/v1/catalog/tables/{database}/{table}/columns) and puts
 * a column's name into the query where the cursor is.
 */
import { api, type Catalog, type TableColumns } from './api.js';
import { $ } from './dom.js';
import type { SqlEditor } from './editor.js';

interface Hooks {
  editor: SqlEditor;
  /** True when the error meant "signed out" (handled there). */
  onAuthFailure(error: unknown): boolean;
}

/** Columns already fetched, per `database.table`, for this page's life. */
const fetched = new Map<string, Promise<TableColumns>>();

function columnList(database: string, table: string, columns: TableColumns['columns'], editor: SqlEditor): HTMLUListElement {
  const list = document.createElement('ul');
  list.className = 'columns';
  for (const column of columns) {
    const item = document.createElement('li');
    const name = document.createElement('button');
    name.type = 'button';
    name.className = 'column';
    name.textContent = column.name;
    name.setAttribute('aria-label', `Insert column ${column.name} of ${database}.${table}`);
    if (column.comment) name.title = column.comment;
    name.addEventListener('click', () => editor.insert(column.name));
    const type = document.createElement('span');
    type.className = 'type';
    type.textContent = column.type;
    item.append(name, ' ', type);
    list.append(item);
  }
  return list;
}

function tableItem(database: string, table: string, hooks: Hooks): HTMLLIElement {
  const item = document.createElement('li');
  const query = document.createElement('button');
  query.type = 'button';
  query.className = 'secondary';
  query.textContent = table;
  query.setAttribute('aria-label', `Query ${database}.${table}`);
  query.addEventListener('click', () => {
    hooks.editor.set(`SELECT * FROM ${database}.${table} LIMIT 1000`);
    hooks.editor.focus();
  });
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'secondary toggle';
  toggle.textContent = 'Columns';
  toggle.setAttribute('aria-label', `Columns of ${database}.${table}`);
  toggle.setAttribute('aria-expanded', 'false');
  const panel = document.createElement('div');
  panel.className = 'column-panel';
  panel.id = `columns-${database}-${table}`;
  panel.hidden = true;
  toggle.setAttribute('aria-controls', panel.id);
  toggle.addEventListener('click', () => void open());

  async function open(): Promise<void> {
    const expanded = toggle.getAttribute('aria-expanded') === 'true';
    toggle.setAttribute('aria-expanded', String(!expanded));
    panel.hidden = expanded;
    if (expanded || panel.dataset.loaded === 'true') return;
    panel.replaceChildren(Object.assign(document.createElement('p'), { className: 'hint', textContent: 'Loading columns…' }));
    const key = `${database}.${table}`;
    if (!fetched.has(key)) fetched.set(key, api.columns(database, table));
    try {
      const { columns } = await fetched.get(key)!;
      panel.replaceChildren(columnList(database, table, columns, hooks.editor));
      panel.dataset.loaded = 'true';
    } catch (error) {
      fetched.delete(key);
      if (hooks.onAuthFailure(error)) return;
      panel.replaceChildren(
        Object.assign(document.createElement('p'), { className: 'error', textContent: error instanceof Error ? error.message : String(error) }),
      );
    }
  }

  item.append(query, toggle, panel);
  return item;
}

export function renderCatalog(catalog: Catalog, hooks: Hooks): void {
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
    for (const table of database.tables) list.append(tableItem(database.name, table, hooks));
    container.append(list);
  }
}

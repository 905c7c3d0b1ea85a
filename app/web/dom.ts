/** The few DOM helpers every part of the page uses. */
import { ApiError } from './api.js';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`);
  return element as T;
};

export function show(element: HTMLElement, visible: boolean): void {
  element.hidden = !visible;
}

export function setError(element: HTMLElement, error: unknown): void {
  if (error === undefined) {
    element.textContent = '';
    show(element, false);
    return;
  }
  element.textContent = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  show(element, true);
}

/** A table cell with text (never HTML: everything shown comes from users or the server). */
export function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
  return td;
}

export function actionButton(label: string, name: string, onClick: () => void, className = 'secondary'): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.textContent = label;
  button.setAttribute('aria-label', `${label} ${name}`);
  button.addEventListener('click', onClick);
  return button;
}

/** Copies text, or selects the input holding it when the clipboard is refused. */
export async function copyFrom(input: HTMLInputElement, feedback: HTMLElement): Promise<void> {
  await copyText(input.value, feedback, () => input.select());
}

/** Copies the text of an element (a code block), or selects it when the clipboard is refused. */
export async function copyElementText(element: HTMLElement, feedback: HTMLElement, what = 'Copied to the clipboard.'): Promise<void> {
  await copyText(element.textContent ?? '', feedback, () => window.getSelection()?.selectAllChildren(element), what);
}

async function copyText(text: string, feedback: HTMLElement, select: () => void, what = 'Copied to the clipboard.'): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    feedback.textContent = what;
  } catch {
    select();
    feedback.textContent = 'Press Ctrl+C (⌘+C) to copy the selected text.';
  }
}

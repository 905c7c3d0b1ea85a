/**
 * The query editor: a plain textarea with, behind it, a backdrop that mirrors its text and marks
 * where the SQL guard or Hive found an error (the API's `position`: 1-based line and column in
 * UTF-16 code units, as a textarea counts them). The marked stretch is also selected, so keyboard
 * and screen-reader users land on it. Any edit clears the mark.
 */
import type { SqlPosition } from './api.js';

/** The offset of `position` in `text`, clamped to its line and to the text. */
export function offsetAt(text: string, position: SqlPosition): number {
  let start = 0;
  for (let line = 1; line < position.line; line++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return text.length;
    start = next + 1;
  }
  const lineEnd = text.indexOf('\n', start);
  return Math.min(start + Math.max(0, position.column - 1), lineEnd < 0 ? text.length : lineEnd);
}

const WORD = /[\p{L}\p{N}_$]+/uy;

/** What to mark at `offset`: the identifier or number that starts there, else the one character (none at a line end). */
export function markedRange(text: string, offset: number): { start: number; end: number } {
  WORD.lastIndex = offset;
  const word = WORD.exec(text);
  if (word) return { start: offset, end: offset + word[0].length };
  if (offset >= text.length || text[offset] === '\n' || text[offset] === '\r') return { start: offset, end: offset };
  const end = offset + ((text.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1);
  return { start: offset, end };
}

export class SqlEditor {
  constructor(
    private readonly textarea: HTMLTextAreaElement,
    private readonly backdrop: HTMLElement,
  ) {
    textarea.addEventListener('input', () => this.clearMark());
    textarea.addEventListener('scroll', () => {
      backdrop.scrollTop = textarea.scrollTop;
      backdrop.scrollLeft = textarea.scrollLeft;
    });
  }

  /** The text as the user wrote it: positions the server answers are counted in this text. */
  get value(): string {
    return this.textarea.value;
  }

  set(sql: string): void {
    this.textarea.value = sql;
    this.clearMark();
  }

  focus(): void {
    this.textarea.focus();
  }

  /** Replaces the selection with `text` (a column name from the browser), as typing would. */
  insert(text: string): void {
    const { selectionStart, selectionEnd, value } = this.textarea;
    this.textarea.value = `${value.slice(0, selectionStart)}${text}${value.slice(selectionEnd)}`;
    this.textarea.focus();
    this.textarea.setSelectionRange(selectionStart + text.length, selectionStart + text.length);
    this.clearMark();
  }

  /** Marks the error at `position` and selects it. */
  markError(position: SqlPosition): void {
    const text = this.textarea.value;
    const { start, end } = markedRange(text, offsetAt(text, position));
    const mark = document.createElement('mark');
    // An error at a line end marks a blank the width of one character.
    mark.textContent = end > start ? text.slice(start, end) : ' ';
    mark.dataset.line = String(position.line);
    mark.dataset.column = String(position.column);
    // A trailing newline needs a character after it, or the backdrop ends one line short.
    this.backdrop.replaceChildren(document.createTextNode(text.slice(0, start)), mark, document.createTextNode(`${text.slice(end)} `));
    this.textarea.setAttribute('aria-invalid', 'true');
    this.textarea.focus();
    this.textarea.setSelectionRange(start, Math.max(end, start));
    this.backdrop.scrollTop = this.textarea.scrollTop;
  }

  clearMark(): void {
    if (this.backdrop.firstChild) this.backdrop.replaceChildren();
    this.textarea.removeAttribute('aria-invalid');
  }
}

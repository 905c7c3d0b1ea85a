import { AppError } from '../errors.js';

/** 1-based line and column (UTF-16 code units, as a browser textarea counts them). */
export interface SqlPosition {
  line: number;
  column: number;
}

export function positionAt(sql: string, offset: number): SqlPosition {
  let line = 1;
  let lineStart = 0;
  for (let index = sql.indexOf('\n'); index !== -1 && index < offset; index = sql.indexOf('\n', index + 1)) {
    line += 1;
    lineStart = index + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The 400 the guard answers with; `offset` (into the caller's SQL) adds `details.position`. */
export function sqlRejected(message: string, sql?: string, offset?: number, cause?: unknown): AppError {
  const details = sql !== undefined && offset !== undefined ? { position: positionAt(sql, offset) } : undefined;
  return new AppError('sql_rejected', 400, message, { details, cause });
}

/** "line 2 column 7" for messages, so the caller can find the spot without reading `details`. */
export function describePosition(sql: string, offset: number): string {
  const { line, column } = positionAt(sql, offset);
  return `line ${line} column ${column}`;
}

/** The caller's own text, shortened so that error messages stay short. */
export function excerpt(text: string, maxLength = 30): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength)}…`;
}

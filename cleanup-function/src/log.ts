/**
 * The logging surface the cleanup needs. `InvocationContext` has exactly these methods, so the
 * Functions handler passes its context and every line lands in the invocation's log; the CLI
 * and the local stack pass `console`.
 */
export interface CleanupLog {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * Warnings about single items (a blob, a job), logged up to a limit and then only counted, so a
 * bad day cannot flood the log; the summary line carries the totals.
 */
export class CappedWarnings {
  private count = 0;

  constructor(
    private readonly log: CleanupLog,
    private readonly what: string,
    private readonly limit = 20,
  ) {}

  warn(message: string): void {
    if (this.count < this.limit) this.log.warn(message);
    else if (this.count === this.limit) {
      this.log.warn(`cleanup: more ${this.what} failed; only the first ${this.limit} are logged, the summary counts all`);
    }
    this.count++;
  }
}

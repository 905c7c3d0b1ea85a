/**
 * At most `limit` tasks at a time. `submit` waits for a free slot, which is how a fast producer
 * (a 5,000-blob page) is held back by slow consumers (batches of 256) without queueing the
 * whole listing in memory.
 */
export class BoundedPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`pool limit must be an integer >= 1, got ${limit}`);
  }

  /** Tasks are expected to handle their own errors; one that throws anyway fails `drain`. */
  async submit(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running);
    const run: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    if (this.failure) throw this.failure.error;
  }
}

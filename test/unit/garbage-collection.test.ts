import { PerformanceObserver, constants } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { promptCollector } from '../../app/src/garbage-collection.js';

/** Young-generation collections V8 reports while `work` runs. */
async function minorCollectionsDuring(work: () => void): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) count++;
  });
  observer.observe({ entryTypes: ['gc'] });
  work();
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return count;
}

describe('promptCollector', () => {
  it('runs a young-generation collection each time the bytes received reach the threshold', async () => {
    const received = promptCollector(1000);
    const collections = await minorCollectionsDuring(() => {
      for (let i = 0; i < 30; i++) received(100); // 3,000 bytes: three thresholds
    });
    expect(collections).toBeGreaterThanOrEqual(3);
  });

  it('counts bytes per collector, so one thread\'s traffic does not trigger another\'s', async () => {
    const quiet = promptCollector(1_000_000);
    const busy = promptCollector(10);
    busy(10);
    const collections = await minorCollectionsDuring(() => quiet(999_999));
    expect(collections).toBe(0);
  });
});

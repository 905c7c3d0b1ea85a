import { describe, expect, it } from 'vitest';
import { BoundedPool } from '../../../cleanup-function/src/pool.js';

describe('BoundedPool', () => {
  it('never runs more than its limit at once and waits for all on drain', async () => {
    const pool = new BoundedPool(3);
    let running = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 20; i++) {
      await pool.submit(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        done++;
      });
    }
    await pool.drain();
    expect(peak).toBe(3);
    expect(done).toBe(20);
  });

  it('surfaces a task that throws on drain instead of losing it', async () => {
    const pool = new BoundedPool(2);
    await pool.submit(async () => {
      throw new Error('unexpected');
    });
    await expect(pool.drain()).rejects.toThrow('unexpected');
  });

  it('refuses a limit below one', () => {
    expect(() => new BoundedPool(0)).toThrow('pool limit must be an integer >= 1, got 0');
  });
});

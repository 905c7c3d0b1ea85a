import { describe, expect, it } from 'vitest';
import { decideRange } from '../../../app/src/storage/http-range.js';

describe('decideRange', () => {
  const size = 1_000;

  it('serves the whole file without a Range header', () => {
    expect(decideRange(undefined, size)).toEqual({ kind: 'full' });
  });

  it.each([
    ['bytes=0-0', 0, 0],
    ['bytes=0-499', 0, 499],
    ['bytes=500-', 500, 999],
    ['bytes=990-5000', 990, 999],
    ['bytes=-1', 999, 999],
    ['bytes=-5000', 0, 999],
    [' bytes=10-20 ', 10, 20],
  ])('%s → %i-%i', (header, start, end) => {
    expect(decideRange(header, size)).toEqual({ kind: 'partial', start, end });
  });

  it.each(['bytes=1000-', 'bytes=1000-1001', 'bytes=-0'])('%s is unsatisfiable', (header) => {
    expect(decideRange(header, size)).toEqual({ kind: 'unsatisfiable' });
  });

  it('finds every range of an empty file unsatisfiable', () => {
    expect(decideRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-10', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each(['bytes=0-1,4-5', 'items=0-5', 'bytes=5-1', 'bytes=-', 'bytes=a-b', 'bytes 0-5', 'bytes=0x10-'])(
    'ignores %s and serves the whole file',
    (header) => {
      expect(decideRange(header, size)).toEqual({ kind: 'full' });
    },
  );
});

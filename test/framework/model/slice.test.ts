import { describe, expect, it } from 'vitest';
import { sliceIndex } from '../../../src/framework/model/slice.js';

describe('sliceIndex', () => {
  const epoch0 = Date.parse('2024-01-01T00:00:00Z');

  it('counts whole slices since epoch0', () => {
    expect(sliceIndex(epoch0, epoch0, 500)).toBe(0);
    expect(sliceIndex(epoch0 + 499, epoch0, 500)).toBe(0);
    expect(sliceIndex(epoch0 + 500, epoch0, 500)).toBe(1);
    expect(sliceIndex(new Date(epoch0 + 1200), new Date(epoch0), 500)).toBe(2);
  });

  it('is negative before epoch0', () => {
    expect(sliceIndex(epoch0 - 1, epoch0, 500)).toBe(-1);
    expect(sliceIndex(epoch0 - 500, epoch0, 500)).toBe(-1);
    expect(sliceIndex(epoch0 - 501, epoch0, 500)).toBe(-2);
  });
});

import { describe, expect, it } from 'vitest';
import { {{className}} } from '../src/{{file}}.js';

describe('{{className}}', () => {
  it('describes an event kind', () => {
    expect(new {{className}}().describe('ping')).toBe('a ping event');
  });
});

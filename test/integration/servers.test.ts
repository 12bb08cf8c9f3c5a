import { describe, expect, it, vi } from 'vitest';
import { requireBinary } from './servers.js';

describe('integration server lookup', () => {
  it('skips a suite whose server is missing, with a loud notice', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(requireBinary('no-such-server-binary', false)).toBeUndefined();
    expect(String(write.mock.calls[0]?.[0])).toMatch(/\*\*\* no-such-server-binary not found .* SKIPPED/);
    write.mockRestore();
  });

  it('fails instead when servers are required (CI=true or LIVE_CREW_REQUIRE_SERVERS=1)', () => {
    expect(() => requireBinary('no-such-server-binary', true)).toThrow(/requires it/);
  });
});

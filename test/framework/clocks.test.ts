import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/index.js';
import { ManualClock } from '../../src/testing.js';

describe('Clock.sleep with a signal', () => {
  // A minute's sleep that did not end with its signal would outlast the test's timeout.
  it('the system clock wakes when the signal aborts, or at once when it already has', async () => {
    const controller = new AbortController();
    const slept = systemClock.sleep(60_000, controller.signal);
    controller.abort();
    await slept;
    await systemClock.sleep(60_000, controller.signal);
  });

  it('the manual clock wakes an aborted sleeper without moving time, and wakes the others in due order', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const woke: string[] = [];
    const long = clock.sleep(10_000, controller.signal).then(() => woke.push(`long@${clock.now()}`));
    const short = clock.sleep(50).then(() => woke.push(`short@${clock.now()}`));
    controller.abort();
    await Promise.all([long, short]);
    expect(woke).toEqual(['long@0', 'short@50']);
  });
});

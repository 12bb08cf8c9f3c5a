import { describe, expect, it } from 'vitest';
import { WireRefusals } from '../../src/adapters/nats/wire-refusals.js';
import type { Logger } from '../../src/index.js';
import { ManualClock } from '../../src/testing.js';

function warnings(): { said: string[]; logger: Logger } {
  const said: string[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (_fields, message) => void said.push(message), child: () => logger };
  return { said, logger };
}

describe('WireRefusals: each message refused on the wire, logged once', () => {
  it('logs a message once, however often it is read again, with its subject, sequence, problem and what came of it', () => {
    const { said, logger } = warnings();
    const refusals = new WireRefusals(logger, new ManualClock(0));
    for (let i = 0; i < 3; i++) refusals.refuse('live.m1.slice.3.stats.done', 7, 'not valid JSON', 'ignored');
    refusals.refuse('live.m1.slice.3.stats.done', 8, 'not valid JSON', 'ignored');
    expect(said).toEqual(['live.m1.slice.3.stats.done#7 refused: not valid JSON; ignored', 'live.m1.slice.3.stats.done#8 refused: not valid JSON; ignored']);
  });

  it('logs a flood one line per message up to 1,000 a minute, then counts the rest and says how many', () => {
    const { said, logger } = warnings();
    const clock = new ManualClock(0);
    const refusals = new WireRefusals(logger, clock);
    for (let seq = 1; seq <= 5_000; seq++) refusals.refuse('live.m1.heartbeats', seq, 'junk', 'ignored');
    expect(said).toHaveLength(1_000);
    clock.advance(60_000);
    refusals.refuse('live.m1.heartbeats', 5_001, 'junk', 'ignored');
    expect(said.slice(1_000)).toEqual([
      "4000 more messages were refused on the wire in the last minute, past the 1000 logged one by one (a flood of messages that are not live-crew's)",
      'live.m1.heartbeats#5001 refused: junk; ignored',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { Crew } from '../../../src/framework/decorators/crew.js';
import { OnEvent } from '../../../src/framework/decorators/on-event.js';
import { buildCrewGraph } from '../../../src/framework/discovery/crew-graph.js';
import { EventFileCheck } from '../../../src/framework/discovery/event-file-check.js';

@Crew({ id: 'scorer' })
class Scorer {
  @OnEvent('goal')
  on(): void {}
}

const event = (kind: string) => ({ ts: '2024-05-01T12:00:00.000Z', kind, stream_id: 's', payload: {} });

describe('EventFileCheck', () => {
  it('tells apart at most 10,000 kinds and names at most 20 nobody takes, counting the rest: a file of made-up kinds stays bounded', () => {
    const check = new EventFileCheck(buildCrewGraph([Scorer]).crews, 'many.jsonl');
    check.event(event('goal'), 'many.jsonl:1');
    for (let i = 0; i < 10_005; i++) check.event(event(`made_up_${i}`), `many.jsonl:${i + 2}`);
    expect(check.counts).toEqual({ events: 10_006, kinds: 10_000 });
    const { problems, warnings } = check.report();
    expect(problems).toEqual([]);
    expect(warnings).toHaveLength(22);
    expect(warnings[0]).toBe('events of many.jsonl have kind made_up_0, which no crew takes');
    expect(warnings.slice(-2)).toEqual(['and 9979 more kinds no crew takes', 'many.jsonl has more than 10000 kinds: 6 events of the kinds past them were not checked']);
  });
});

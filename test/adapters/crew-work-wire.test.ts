import { describe, expect, it } from 'vitest';
import { decodeDone, decodeWork, encodeDone, encodeWork } from '../../src/adapters/nats/crew-work-wire.js';
import type { CrewSliceDone, CrewWork } from '../../src/index.js';

const event = { ts: '2024-05-18T15:00:00.000Z', kind: 'goal', stream_id: 'm-1', payload: { team: 'home' } };

describe('the crew work wire format', () => {
  it('names stream, slice and crew in the subject and gives each item a deterministic id', () => {
    const work: CrewWork = { type: 'call', streamId: 'm-1', slice: -2, crew: 'score_tracker', event, position: 42, source: 'nats:live.m-1.events#42' };
    expect(encodeWork(work)).toEqual({
      subject: 'live.m-1.slice.-2.score_tracker.ready',
      data: JSON.stringify({ event, position: 42, source: 'nats:live.m-1.events#42' }),
      msgID: 'm-1:-2:score_tracker:42',
    });
    expect(encodeWork({ type: 'close', streamId: 'm-1', slice: 7, crew: 'stats' }).msgID).toBe('m-1:7:stats:close');
  });

  it('decodes what it encodes: calls, closes and reports, deletions included', () => {
    const call: CrewWork = { type: 'call', streamId: 'm-1', slice: 3, crew: 'stats', event, position: 9, source: 'input[9]' };
    const closing: CrewWork = { type: 'close', streamId: 'm-1', slice: 3, crew: 'stats' };
    for (const work of [call, closing]) {
      const { subject, data } = encodeWork(work);
      expect(decodeWork(subject, data)).toEqual(work);
    }
    const done: CrewSliceDone = { streamId: 'm-1', slice: 3, crew: 'stats', writes: [['shots', { home: 2 }], ['gone']], disabled: true };
    const { subject, data, msgID } = encodeDone(done);
    expect(subject).toBe('live.m-1.slice.3.stats.done');
    expect(msgID).toBe('m-1:3:stats:done');
    expect(decodeDone(subject, data)).toEqual(done);
  });

  it('refuses a message live-crew did not write, naming its subject', () => {
    expect(() => decodeWork('live.m-1.slice.3.stats.ready', '{"position":"nine"}')).toThrow(/live\.m-1\.slice\.3\.stats\.ready: not a live-crew work item/);
    expect(() => decodeDone('live.m-1.slice.3.stats.done', '{"writes":"all"}')).toThrow(/live\.m-1\.slice\.3\.stats\.done: not a live-crew slice report/);
    expect(() => decodeWork('live.m-1.slice.3.stats.ready', 'not json')).toThrow(/live\.m-1\.slice\.3\.stats\.ready: not JSON/);
  });
});

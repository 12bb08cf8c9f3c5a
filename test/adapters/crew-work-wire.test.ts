import { describe, expect, it } from 'vitest';
import { decodeDone, decodeWork, encodeDone, encodeWork } from '../../src/adapters/nats/crew-work-wire.js';
import type { CrewSliceDone, CrewWork } from '../../src/index.js';

const event = (n: number) => ({ ts: '2024-05-18T15:00:00.000Z', kind: 'goal', stream_id: 'm-1', payload: { n } });
const call = (crew: string, slice: number, position: number): CrewWork => ({
  type: 'call',
  streamId: 'm-1',
  slice,
  crew,
  event: event(position),
  position,
  source: `nats:live.m-1.events#${position}`,
});
const close = (crew: string, slice: number): CrewWork => ({ type: 'close', streamId: 'm-1', slice, crew });

describe('the crew work wire format', () => {
  it("puts a crew's consecutive calls of a slice in one message, on a subject naming stream, slice and crew", () => {
    const messages = encodeWork([call('stats', -2, 4), call('score', -2, 4), call('stats', -2, 5), close('stats', -2), call('stats', -1, 6)]);
    expect(messages.map(({ subject, msgID }) => ({ subject, msgID }))).toEqual([
      { subject: 'live.m-1.slice.-2.stats.ready', msgID: 'm-1:-2:stats:4-5:2' },
      { subject: 'live.m-1.slice.-2.score.ready', msgID: 'm-1:-2:score:4-4:1' },
      { subject: 'live.m-1.slice.-2.stats.ready', msgID: 'm-1:-2:stats:close' },
      { subject: 'live.m-1.slice.-1.stats.ready', msgID: 'm-1:-1:stats:6-6:1' },
    ]);
  });

  it('decodes what it encodes, in order: calls, closes and reports, deletions included', () => {
    // The slice's first call carries what S(n-1) is worked out from; "nothing merged yet" is -Infinity.
    const base = { after: 1, snapshot: { score: { home: 1 } }, merges: [{ slice: 2, reports: [['stats', 2] as const, ['lagging', 0] as const] }], reportsFrom: 17 };
    const items = [
      { ...call('stats', 3, 9), base } as CrewWork,
      call('stats', 3, 10),
      close('stats', 3),
      { ...call('stats', 4, 11), base: { ...base, after: Number.NEGATIVE_INFINITY, merges: [] } } as CrewWork,
    ];
    expect(encodeWork(items).flatMap(({ subject, data }) => decodeWork(subject, data))).toEqual(items);
    const done: CrewSliceDone = { streamId: 'm-1', slice: 3, crew: 'stats', writes: [['shots', { home: 2 }], ['gone']], disabled: true };
    const { subject, data, msgID } = encodeDone(done);
    expect(subject).toBe('live.m-1.slice.3.stats.done');
    expect(msgID).toBe('m-1:3:stats:done');
    expect(decodeDone(subject, data)).toEqual(done);
  });

  it('splits a run of calls that would make a message over 512 KB', () => {
    const big = (position: number): CrewWork => ({ ...call('stats', 0, position), event: { ...event(position), payload: { text: 'x'.repeat(60_000) } } }) as CrewWork;
    const messages = encodeWork(Array.from({ length: 12 }, (_, i) => big(i)));
    expect(messages.length).toBe(2);
    expect(messages.every(({ data }) => data.length <= 512 * 1024)).toBe(true);
    expect(messages.flatMap(({ subject, data }) => decodeWork(subject, data)).map((work) => (work as { position: number }).position)).toEqual([...Array(12).keys()]);
  });

  it('hands a runner deeply frozen events, as the in-process decoder does: a crew changing its event fails alike in both', () => {
    const item = { ...call('stats', 0, 1), event: { ...event(1), payload: { players: [{ name: 'Ada' }] } } } as CrewWork;
    const [decoded] = encodeWork([item]).flatMap(({ subject, data }) => decodeWork(subject, data));
    const { event: sent } = decoded as Extract<CrewWork, { type: 'call' }>;
    expect(sent).toEqual(item.type === 'call' ? item.event : undefined);
    expect(() => {
      (sent.payload as { players: { name: string }[] }).players[0]!.name = 'Lin';
    }).toThrow(TypeError);
    expect(() => {
      (sent as { kind: string }).kind = 'other';
    }).toThrow(TypeError);
  });

  it('refuses an event payload past payload_max_depth, or with a number JSON cannot hold, naming the subject and where', () => {
    const subject = 'live.m-1.slice.3.stats.ready';
    const body = (payload: string) => `{"calls":[{"event":{"ts":"2024-05-18T15:00:00.000Z","kind":"goal","stream_id":"m-1","payload":${payload}},"position":1,"source":"s"}]}`;
    expect(() => decodeWork(subject, body('{"a":{"b":{"c":1}}}'), 2)).toThrow(/live\.m-1\.slice\.3\.stats\.ready: not a live-crew work item: payload\.a\.b is nested deeper than 2/);
    expect(decodeWork(subject, body('{"a":{"b":{"c":1}}}'), 3)).toHaveLength(1);
    expect(() => decodeWork(subject, body('{"n":1e400}'))).toThrow(/not a live-crew work item: payload\.n is/);
    expect(() => decodeWork(subject, '{"calls":[{"event":{"ts":"2024-05-18T15:00:00.000Z","kind":"goal"},"position":1,"source":"s"}]}')).toThrow(/not a live-crew work item/);
  });

  it('refuses a message live-crew did not write, naming its subject', () => {
    expect(() => decodeWork('live.m-1.slice.3.stats.ready', '{"calls":[{"position":"nine"}]}')).toThrow(
      /live\.m-1\.slice\.3\.stats\.ready: not a live-crew work item: calls\[0\]\.event: .*; calls\[0\]\.position: .*\(got "nine"\)/,
    );
    expect(() => decodeWork('live.m-1.slice.3.stats.ready', '{"calls":[]}')).toThrow(/not a live-crew work item/);
    expect(() => decodeWork('live.m-1.slice.3.stats.ready', '{"close":"soon"}')).toThrow(/live\.m-1\.slice\.3\.stats\.ready: not a live-crew work item/);
    expect(() => decodeDone('live.m-1.slice.3.stats.done', '{"writes":"all"}')).toThrow(/live\.m-1\.slice\.3\.stats\.done: not a live-crew slice report: writes: .*\(got "all"\)/);
    expect(() =>
      decodeWork('live.m-1.slice.3.stats.ready', '{"base":{"after":2,"snapshot":{},"merges":[{"slice":3,"reports":[["stats"]]}],"reportsFrom":1},"calls":[{"event":{},"position":1,"source":"s"}]}'),
    ).toThrow(/not a live-crew work item/);
    expect(() => decodeWork('live.m-1.slice.3.stats.ready', 'not json')).toThrow(/live\.m-1\.slice\.3\.stats\.ready: not JSON/);
  });
});

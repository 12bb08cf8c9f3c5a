import { describe, expect, it } from 'vitest';
import { encodeDone, encodeWork, readReport, readWork, type WireMessage } from '../../src/adapters/nats/crew-work-wire.js';
import type { OutgoingMessage } from '../../src/adapters/nats/jetstream-publishing.js';
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

/** A message as JetStream would hand it back: its id, and the sender header a report carries. */
const stored = (message: OutgoingMessage, seq = 1): WireMessage => ({
  subject: message.subject,
  seq,
  data: message.data,
  msgID: message.msgID ?? '',
  sender: message.headers?.['Live-Crew-Runner'] ?? '',
});
/** The items of work messages, failing on a refused one. */
const itemsOf = (messages: readonly OutgoingMessage[], depth?: number): CrewWork[] =>
  messages.flatMap((message) => {
    const read = readWork(stored(message), depth);
    if (read.refused !== undefined) throw new Error(read.refused);
    return read.work;
  });
const CREWS = new Set(['stats', 'score']);
/** Every crew in one group, but `mood`, in group `slow`. */
const groupOf = (crew: string) => (crew === 'mood' ? 'slow' : 'default');
const encode = (items: readonly CrewWork[]) => encodeWork(items, groupOf);
const workOn = (data: string, msgID = 'm-1:default:stats/3/1~stats/3/1:1'): WireMessage => ({ subject: 'live.m-1.work.default', seq: 7, data, msgID, sender: '' });
const reportOn = (data: string, { crew = 'stats', msgID = `m-1:3:${crew}:done`, sender = 'runner a' }: { crew?: string; msgID?: string; sender?: string } = {}): WireMessage => ({
  subject: `live.m-1.slice.3.${crew}.done`,
  seq: 9,
  data,
  msgID,
  sender,
});
const callBody = (payload: string) =>
  `{"events":[{"event":{"ts":"2024-05-18T15:00:00.000Z","kind":"goal","stream_id":"m-1","payload":${payload}},"position":1,"source":"s","slice":3}],"crews":{"stats":[0]}}`;
const withBase = (base: string) => `{"bases":[[3,${base}]],${callBody('{}').slice(1)}`;
const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('the crew work wire format', () => {
  it("puts a runner group's consecutive work in one message on the group's subject, each event once, however many crews call it", () => {
    const messages = encode([call('stats', -2, 4), call('score', -2, 4), call('mood', -2, 4), call('stats', -2, 5), close('stats', -2), call('stats', -1, 6)]);
    expect(messages.map(({ subject, msgID }) => ({ subject, msgID }))).toEqual([
      { subject: 'live.m-1.work.default', msgID: 'm-1:default:stats/-2/4~stats/-1/6:5' },
      { subject: 'live.m-1.work.slow', msgID: 'm-1:slow:mood/-2/4~mood/-2/4:1' },
    ]);
    const body = JSON.parse(messages[0]!.data) as { events: { position: number }[]; crews: Record<string, unknown[]> };
    expect(body.events.map((event) => event.position)).toEqual([4, 5, 6]);
    expect(body.crews).toEqual({ stats: [0, 1, { close: -2 }, 2], score: [0] });
  });

  it("decodes what it encodes, each crew's items in order: calls with their slice's base, closes, the stream's end, and reports, deletions included", () => {
    // The slice's first call carries what S(n-1) is worked out from; "nothing merged yet" is -Infinity.
    const base = { after: 1, snapshot: { score: { home: 1 } }, merges: [{ slice: 2, reports: [['stats', 2] as const, ['lagging', 0] as const] }], reportsFrom: 17 };
    const items = [
      { ...call('stats', 3, 9), base } as CrewWork,
      { ...call('score', 3, 9), base } as CrewWork,
      call('stats', 3, 10),
      close('stats', 3),
      close('score', 3),
      { ...call('stats', 4, 11), base: { ...base, after: Number.NEGATIVE_INFINITY, merges: [] } } as CrewWork,
      close('stats', 4),
      { type: 'end', streamId: 'm-1', slice: 5, crew: 'stats' } as CrewWork,
      { type: 'end', streamId: 'm-1', slice: 5, crew: 'score' } as CrewWork,
    ];
    const messages = encode(items);
    expect(messages).toHaveLength(1);
    const decoded = itemsOf(messages);
    for (const crew of ['stats', 'score']) expect(decoded.filter((work) => work.crew === crew)).toEqual(items.filter((work) => work.crew === crew));
    const done: CrewSliceDone = { type: 'done', streamId: 'm-1', slice: 3, crew: 'stats', writes: [['shots', { home: 2 }], ['gone']], disabled: true };
    const message = encodeDone(done, 'runner a');
    expect(message.subject).toBe('live.m-1.slice.3.stats.done');
    expect(message.msgID).toBe('m-1:3:stats:done');
    expect(readReport(stored(message), CREWS)).toEqual({ report: done });
  });

  it("splits a run of work that would make a message over 512 KB, keeping each crew's order", () => {
    const big = (crew: string, position: number): CrewWork => ({ ...call(crew, 0, position), event: { ...event(position), payload: { text: 'x'.repeat(60_000) } } }) as CrewWork;
    const messages = encode(Array.from({ length: 12 }, (_, i) => [big('stats', i), big('score', i)]).flat());
    expect(messages.length).toBe(2);
    expect(messages.every(({ data }) => data.length <= 512 * 1024)).toBe(true);
    for (const crew of ['stats', 'score']) {
      expect(
        itemsOf(messages)
          .filter((work) => work.crew === crew)
          .map((work) => (work as { position: number }).position),
      ).toEqual([...Array(12).keys()]);
    }
  });

  it('hands a runner deeply frozen events, as the in-process decoder does: a crew changing its event fails alike in both', () => {
    const item = { ...call('stats', 0, 1), event: { ...event(1), payload: { players: [{ name: 'Ada' }] } } } as CrewWork;
    const [decoded] = itemsOf(encode([item]));
    const { event: sent } = decoded as Extract<CrewWork, { type: 'call' }>;
    expect(sent).toEqual(item.type === 'call' ? item.event : undefined);
    expect(() => {
      (sent.payload as { players: { name: string }[] }).players[0]!.name = 'Lin';
    }).toThrow(TypeError);
    expect(() => {
      (sent as { kind: string }).kind = 'other';
    }).toThrow(TypeError);
  });
});

describe('a runner reading work', () => {
  it('refuses an event payload past payload_max_depth, or with a number JSON cannot hold, saying where', () => {
    expect(readWork(workOn(callBody('{"a":{"b":{"c":1}}}')), 2).refused).toMatch(/^not a live-crew work message: events\[0\]\.event\.payload\.a\.b is nested deeper than 2/);
    expect(readWork(workOn(callBody('{"a":{"b":{"c":1}}}')), 3).work).toHaveLength(1);
    expect(readWork(workOn(callBody('{"n":1e400}'))).refused).toMatch(/not a live-crew work message: events\[0\]\.event\.payload\.n is Infinity/);
    expect(readWork(workOn('{"events":[{"event":{"ts":"2024-05-18T15:00:00.000Z","kind":"goal"},"position":1,"source":"s","slice":3}],"crews":{"stats":[0]}}')).refused).toMatch(
      /not a live-crew work message/,
    );
  });

  it('refuses a body live-crew did not write, saying what differs', () => {
    expect(readWork(workOn('{"events":[{"position":"nine"}],"crews":{}}')).refused).toMatch(/not a live-crew work message: events\[0\]\.event: .*; events\[0\]\.position: .*\(got "nine"\)/);
    expect(readWork(workOn('{"events":[],"crews":{"stats":[]}}')).refused).toMatch(/not a live-crew work message: crews\.stats/);
    expect(readWork(workOn('{"events":[],"crews":{"stats":[{"close":"soon"}]}}')).refused).toMatch(/not a live-crew work message/);
    expect(readWork(workOn('{"events":[],"crews":{"stats":[{"close":1,"end":1}]}}')).refused).toMatch(/not a live-crew work message/);
    expect(readWork(workOn('{"events":[],"crews":{"stats":[-1]}}')).refused).toMatch(/not a live-crew work message/);
    expect(readWork(workOn('{"events":[],"crews":{"no.crew":[{"end":1}]}}')).refused).toMatch(/not a live-crew work message: crews\.no\.crew: Invalid key in record/);
    expect(readWork(workOn(callBody('{}').replace('"stats":[0]', '"stats":[0,1]'))).refused).toMatch(/crews\.stats\[1\] names event 1, and the message holds 1/);
    expect(readWork(workOn(withBase('{"after":2,"snapshot":{},"merges":[{"slice":3,"reports":[["stats"]]}],"reportsFrom":1}'))).refused).toMatch(/not a live-crew work message/);
    expect(readWork(workOn('not json')).refused).toMatch(/not a live-crew work message: not valid JSON/);
    expect(readWork(workOn('')).refused).toMatch(/not a live-crew work message: not valid JSON/);
  });

  it('refuses nesting far past the bounds without recursing into it: the schema, then a bounded walk of what it keeps', () => {
    expect(readWork(workOn(deep(100_000))).refused).toMatch(/\(root\): Invalid input: expected object, received array \(got \(an array that cannot be shown\)\)/);
    expect(readWork(workOn(withBase(`{"after":2,"snapshot":{"k":${deep(100_000)}},"merges":[],"reportsFrom":1}`))).refused).toMatch(
      /bases\[0\]\[1\]\.snapshot\.k(\[0\])+ is nested deeper than 65 levels/,
    );
  });

  it('never lets a snapshot key reach a prototype', () => {
    const [first] = readWork(workOn(withBase('{"after":2,"snapshot":{"__proto__":{"polluted":1},"score":1},"merges":[],"reportsFrom":1}'))).work!;
    const snapshot = (first as { base: { snapshot: Record<string, unknown> } }).base.snapshot;
    expect(Object.getPrototypeOf(snapshot)).toBe(Object.prototype);
    expect(snapshot).toEqual({ score: 1 });
  });

  it('refuses work on a subject that names no stream and group, or without the id the scheduler gives its work', () => {
    const closing = '{"events":[],"crews":{"stats":[{"close":3}]}}';
    expect(readWork({ ...workOn(closing), subject: 'live.m-1.work.no.group' }).refused).toMatch(/not a live-crew work subject/);
    expect(readWork({ ...workOn(closing), subject: 'live.m-1.slice.3.stats.ready' }).refused).toMatch(/not a live-crew work subject/);
    expect(readWork({ ...workOn(closing), subject: 'live.m+1.work.default' }).refused).toMatch(/not a live-crew work subject/);
    expect(readWork(workOn(closing, '')).refused).toMatch(/its message id \(none\) is not one a live-crew scheduler gives work/);
    expect(readWork(workOn(closing, 'm-1:slow:stats/3/close~stats/3/close:1')).refused).toMatch(/"m-1:slow:stats\/3\/close~stats\/3\/close:1" is not one/);
    expect(readWork(workOn(closing, 'm-1:default:stats/3/close~stats/3/close:1')).work).toEqual([close('stats', 3)]);
  });

  it('refuses a message past the bytes it reads in one piece', () => {
    expect(readWork(workOn(`"${'x'.repeat(8 * 1024 * 1024)}"`)).refused).toMatch(/8388610 bytes, over the 8388608/);
  });
});

describe('a scheduler or runner reading reports', () => {
  it("takes a report with a body live-crew did not write as the crew's report, refused, naming sender and source", () => {
    for (const [data, problem] of [
      ['not json', /not valid JSON/],
      ['{"writes":"all"}', /writes: .*\(got "all"\)/],
      [`{"writes":[["k",${deep(100_000)}]],"disabled":false}`, /writes\[0\]\[1\](\[0\])+ is nested deeper than 64 levels/],
      ['{"writes":[["k",[[1]]]],"disabled":false}', /writes\[0\]\[1\]\[0\] is nested deeper than 1 levels \(payload_max_depth\)/],
      ['{"writes":[["__proto__",{"a":1}]],"disabled":false}', /context key "__proto__" is not allowed/],
      [`{"writes":[["${'k'.repeat(300)}",1]],"disabled":false}`, /must be a non-empty string of at most 256 characters/],
      ['{"writes":[["k",1e999]],"disabled":false}', /writes\[0\]\[1\] is Infinity/],
      ['{"writes":[["k",1,2]],"disabled":false}', /writes\[0\]: a write is \[key, value\], or \[key\] for a deletion/],
    ] as const) {
      const read = readReport(reportOn(data), CREWS, data.includes('[[1]]') ? 1 : undefined);
      expect(read.report, data.slice(0, 40)).toMatchObject({ streamId: 'm-1', slice: 3, crew: 'stats', writes: [], disabled: false });
      expect(read.report?.refused?.problem).toMatch(problem);
      expect(read.report?.refused).toMatchObject({ sender: 'runner a', source: 'nats:live.m-1.slice.3.stats.done#9' });
    }
    expect(readReport(reportOn('junk', { sender: '' }), CREWS).report?.refused?.sender).toBe('a sender that gave no name');
  });

  it("ignores what is not the report of one of the run's crews: another id, an unknown crew, a subject that names no slice", () => {
    expect(readReport(reportOn('{"writes":[],"disabled":false}', { msgID: '' }), CREWS).ignored).toMatch(/message id \(none\) is not one a live-crew runner gives a report/);
    expect(readReport(reportOn('{"writes":[],"disabled":false}', { msgID: 'm-1:4:stats:done' }), CREWS).ignored).toMatch(/not one/);
    expect(readReport(reportOn('{"writes":[],"disabled":false}', { crew: 'ghost' }), CREWS).ignored).toMatch(/not the report subject of one of this run's crews/);
    expect(readReport({ ...reportOn('{}'), subject: 'live.m-1.slice.3.stats.done.extra' }, CREWS).ignored).toMatch(/not the report subject/);
  });
});

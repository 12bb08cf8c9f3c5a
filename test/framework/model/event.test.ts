import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventDecoder, eventSchema } from '../../../src/framework/model/event.js';
import { parseCanonicalUtc } from '../../../src/framework/model/timestamp.js';

const decoder = new EventDecoder({ payloadMaxBytes: 1024 });
const good = { ts: '2024-05-01T12:00:00.000Z', kind: 'goal_scored', stream_id: 'match-42', payload: { team: 'home' } };
const line = (value: unknown) => JSON.stringify(value);

function problemOf(result: ReturnType<EventDecoder['decode']>): string {
  if (!('problem' in result)) throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result.problem;
}

describe('EventDecoder', () => {
  it('accepts a well-formed event and keeps its fields', () => {
    const result = decoder.decodeText(line(good));
    expect(result).toMatchObject({ event: good, tsMs: Date.parse(good.ts) });
    expect((result as { event: object }).event).toEqual(good);
  });

  it('normalises a timestamp with an offset to canonical UTC', () => {
    const result = decoder.decodeText(line({ ...good, ts: '2024-05-01T14:00:00+02:00' }));
    expect(result).toMatchObject({ event: { ts: '2024-05-01T12:00:00.000Z' }, tsMs: Date.parse('2024-05-01T12:00:00Z') });
  });

  it('accepts a Date as ts when given values in code', () => {
    const result = decoder.decode({ ...good, ts: new Date('2024-05-01T12:00:00Z') });
    expect(result).toMatchObject({ event: { ts: '2024-05-01T12:00:00.000Z' } });
  });

  it('accepts old event times: replaying last year is valid', () => {
    expect(decoder.decodeText(line({ ...good, ts: '1999-12-31T23:59:59.999Z' }))).toMatchObject({ tsMs: Date.parse('1999-12-31T23:59:59.999Z') });
    expect(decoder.decodeText(line({ ...good, ts: '1969-07-20T20:17:00.000Z' }))).toMatchObject({ tsMs: Date.parse('1969-07-20T20:17:00Z') });
  });

  it('gives a missing payload as {} and drops unknown top-level keys', () => {
    const { payload: _, ...noPayload } = good;
    expect((decoder.decodeText(line({ ...noPayload, extra: 1 })) as { event: object }).event).toEqual({ ...noPayload, payload: {} });
  });

  it('gives the same frozen event, with just its four keys, whatever the order and extra keys of the text', () => {
    const { ts, kind, stream_id, payload } = good;
    for (const text of [line(good), line({ payload, stream_id, kind, ts }), line({ ...good, extra: 1 }), line({ extra: 1, ...good }), `{"__proto__":{},${line(good).slice(1)}`]) {
      const { event } = decoder.decodeText(text) as { event: object };
      expect(Object.keys(event)).toEqual(['ts', 'kind', 'stream_id', 'payload']);
      expect(event).toEqual(good);
      expect(Object.isFrozen(event)).toBe(true);
    }
  });

  it('rejects text that is not JSON, naming the parser problem', () => {
    expect(problemOf(decoder.decodeText('{"ts": '))).toMatch(/^not valid JSON: /);
  });

  it('rejects values that are not objects', () => {
    expect(problemOf(decoder.decodeText('[1,2]'))).toMatch(/invalid event: \(root\): .*expected object/);
    expect(problemOf(decoder.decodeText('42'))).toMatch(/invalid event: \(root\)/);
  });

  it.each(['ts', 'kind', 'stream_id'])('rejects an event without %s, naming the field', (field) => {
    const { [field as keyof typeof good]: _, ...rest } = good;
    expect(problemOf(decoder.decodeText(line(rest)))).toMatch(new RegExp(`${field}: is required`));
  });

  it.each([
    ['__error', /kind "__error" is reserved/],
    ['__hb', /kind "__hb" is reserved/],
    ['has space', /kind: must match .* \(got "has space"\)/],
    ['x'.repeat(51), /kind: must match/],
    ['', /kind: must match/],
  ])('rejects kind %j', (kind, message) => {
    expect(problemOf(decoder.decodeText(line({ ...good, kind })))).toMatch(message);
  });

  it.each([['a.b'], ['with space'], ['x'.repeat(101)]])('rejects stream_id %j, showing the value', (streamId) => {
    expect(problemOf(decoder.decodeText(line({ ...good, stream_id: streamId })))).toMatch(/stream_id: must match .*\(got "/);
  });

  it.each([
    ['2024-05-01T12:00:00', 'no offset'],
    ['2024-02-30T12:00:00.000Z', 'no such day'],
    ['2024-13-01T12:00:00.000Z', 'no such month'],
    ['yesterday', 'not a date'],
    [1714564800000, 'a number'],
  ])('rejects ts %j (%s), naming the expected format', (ts, _why) => {
    expect(problemOf(decoder.decodeText(line({ ...good, ts })))).toMatch(/ts: must be an ISO-8601 date-time with a UTC offset/);
  });

  it('rejects a payload over payload_max_bytes, giving its size', () => {
    const result = decoder.decodeText(line({ ...good, payload: { text: 'é'.repeat(600) } }));
    expect(problemOf(result)).toMatch(/payload: payload is 1211 bytes, over the limit of 1024 \(payload_max_bytes\)/);
  });

  it('rejects a payload that is not JSON when given values in code', () => {
    expect(problemOf(decoder.decode({ ...good, payload: { f: () => 1 } }))).toMatch(/invalid event: payload\.f is a function; event payloads must be JSON/);
  });

  it('truncates a long offending value in the message', () => {
    const problem = problemOf(decoder.decodeText(line({ ...good, kind: 'bad kind '.repeat(40) })));
    expect(problem).toMatch(/…\)/);
    expect(problem.length).toBeLessThan(250);
  });

  describe('bounds what it parses, the same way whatever the line length', () => {
    const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const withPayload = (payloadJson: string, pad = 0) => `{"ts":"${good.ts}","kind":"k","stream_id":"m1","pad":"${'x'.repeat(pad)}","payload":${payloadJson}}`;

    it.each([0, 5000])('refuses a payload nested 2,000 levels (padding %i), naming the limit, before anything recurses', (pad) => {
      expect(problemOf(decoder.decodeText(withPayload(deep(2000), pad)))).toMatch(/^invalid event: payload(\[0\]){64} is nested deeper than 64 levels \(payload_max_depth\)$/);
    });

    it('accepts exactly payload_max_depth levels, and refuses one more', () => {
      const at = new EventDecoder({ payloadMaxBytes: 65_536, payloadMaxDepth: 10 });
      expect('event' in at.decodeText(withPayload(deep(10)))).toBe(true);
      expect(problemOf(at.decodeText(withPayload(deep(11))))).toMatch(/nested deeper than 10 levels/);
    });

    it.each([0, 5000])('refuses a number JSON.parse turns into Infinity (padding %i)', (pad) => {
      expect(problemOf(decoder.decodeText(withPayload('{"n":1e400}', pad)))).toBe('invalid event: payload.n is Infinity (a number out of range)');
      expect(problemOf(decoder.decodeText(withPayload('[-1e999]', pad)))).toMatch(/^invalid event: payload\[0\] is -Infinity \(a number out of range\)$/);
      expect(problemOf(decoder.decodeText(withPayload('1e400', pad)))).toMatch(/^invalid event: payload is Infinity/);
    });

    it('refuses values in code the same way: too deep, non-finite, not plain', () => {
      let value: unknown = 1;
      for (let i = 0; i < 2000; i++) value = [value];
      expect(problemOf(decoder.decode({ ...good, payload: value }))).toMatch(/invalid event: payload(\[0\]){64} is nested deeper than 64 levels/);
      expect(problemOf(decoder.decode({ ...good, payload: { n: Number.POSITIVE_INFINITY } }))).toMatch(/invalid event: payload\.n is Infinity/);
      expect(problemOf(decoder.decode({ ...good, payload: { at: new Date(0) } }))).toMatch(/invalid event: payload\.at is a Date object/);
    });

    it('refuses a record over lineMaxBytes, giving its size', () => {
      const small = new EventDecoder({ payloadMaxBytes: 1024, lineMaxBytes: 200 });
      expect(problemOf(small.decodeText(withPayload('"é"', 300)))).toMatch(/^record is \d+ bytes, over line_max_bytes 200; it was skipped/);
    });

    it('hands out deeply frozen events, and leaves values given in code unfrozen', () => {
      const fromText = decoder.decodeText(line({ ...good, payload: { team: { name: 'home', players: ['a'] } } })) as { event: { payload: { team: { players: string[] } } } };
      expect(Object.isFrozen(fromText.event) && Object.isFrozen(fromText.event.payload.team.players)).toBe(true);
      const mine = { ...good, payload: { team: 'home' } };
      const fromCode = decoder.decode(mine) as { event: { payload: object } };
      expect(Object.isFrozen(fromCode.event.payload)).toBe(true);
      expect(Object.isFrozen(mine.payload)).toBe(false);
      expect(fromCode.event.payload).not.toBe(mine.payload);
    });
  });

  it('decides exactly as the zod schema does, for any input (the fast check is only a shortcut)', () => {
    const schema = eventSchema(1024);
    const tsArb = fc.oneof(
      fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
      fc.constantFrom('2024-02-29T00:00:00.000Z', '2023-02-29T00:00:00.000Z', '2024-05-01T24:00:00.000Z', '2024-05-01T12:00:00.000+01:00'),
    );
    const valueArb = fc.record(
      {
        ts: tsArb,
        kind: fc.oneof(fc.constantFrom('goal', '__error', 'a-b'), fc.string({ maxLength: 60 })),
        stream_id: fc.oneof(fc.constantFrom('m1', 'a.b'), fc.string({ maxLength: 5 })),
        payload: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(valueArb, (value) => {
        const text = JSON.stringify(value);
        const viaZod = schema.safeParse(JSON.parse(text));
        const decoded = decoder.decodeText(text);
        expect('problem' in decoded).toBe(!viaZod.success);
        if (viaZod.success && !('problem' in decoded)) expect(decoded.tsMs).toBe(viaZod.data.ts);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseCanonicalUtc', () => {
  it('agrees with Date.parse on every canonical instant', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        expect(parseCanonicalUtc(date.toISOString())).toBe(date.getTime());
      }),
    );
  });

  it('agrees with Date.parse on stamps that share their minute with the one before, and on a bad second after a good one', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 20 }),
        (start, steps) => {
          let at = start.getTime();
          for (const step of steps) {
            at += step;
            expect(parseCanonicalUtc(new Date(at).toISOString())).toBe(at);
          }
        },
      ),
    );
    expect(parseCanonicalUtc('2024-05-01T12:00:59.999Z')).toBe(Date.parse('2024-05-01T12:00:59.999Z'));
    for (const text of ['2024-05-01T12:00:60.000Z', '2024-05-01T12:00:5x.000Z', '2024-05-01T12:00:00,000Z', '2024-05-01T12:00:00.0a0Z']) {
      expect(parseCanonicalUtc(text)).toBeNaN();
    }
  });

  it('returns NaN for what it cannot vouch for, leaving it to zod', () => {
    for (const text of ['2024-02-30T00:00:00.000Z', '2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000+01:00', '0050-01-01T00:00:00.000Z']) {
      expect(parseCanonicalUtc(text)).toBeNaN();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { PacedEventSource } from '../../../src/framework/runtime/paced-event-source.js';
import type { EventSource, InputBatch } from '../../../src/framework/ports/event-source.js';
import { ManualClock } from '../../../src/testing.js';

describe('PacedEventSource', () => {
  it('keeps the acknowledgement of the batches it splits, on their last part (paced input over NATS is acknowledged)', async () => {
    const acked: number[] = [];
    const at = (s: number) => ({ text: JSON.stringify({ ts: new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString() }), position: s });
    const inner: EventSource = {
      async *batches() {
        yield { origin: { name: 'x', locate: String }, records: [at(0), at(1), at(2)], ack: () => void acked.push(1) };
        yield { origin: { name: 'x', locate: String }, records: [at(3)], ack: () => void acked.push(2) };
      },
      close: async () => {},
    };
    const clock = new ManualClock(0);
    const parts: InputBatch[] = [];
    const reading = (async () => {
      for await (const batch of new PacedEventSource(inner, 1, clock).batches()) parts.push(batch);
    })();
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      clock.advance(1000);
    }
    await reading;
    expect(parts.map((p) => p.records.length)).toEqual([1, 1, 1, 1]);
    expect(parts.map((p) => p.ack !== undefined)).toEqual([false, false, true, true]);
    for (const part of parts) await part.ack?.();
    expect(acked).toEqual([1, 2]);
  });
});

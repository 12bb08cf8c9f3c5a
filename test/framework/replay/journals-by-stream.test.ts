import { describe, expect, it } from 'vitest';
import { decisionStream, effectDecision, futureDecision, modelCallDecision, tickDecision, timeoutDecision, waitDecision, budgetDecision } from '../../../src/framework/replay/decision-keys.js';
import { JournalsByStream } from '../../../src/framework/replay/journals-by-stream.js';
import { MemoryDecisionJournal } from '../../../src/testing.js';

const call = (streamId: string) => ({ streamId, slice: 3, crewId: 'agent', route: { handler: { method: 'ask' } }, envelope: { position: 42 } });

describe('decisions by stream (a pool worker, DESIGN §12)', () => {
  it('reads the stream from every key that names one, and none from those of no stream', () => {
    expect(decisionStream(modelCallDecision(call('m-1'), 0))).toBe('m-1');
    expect(decisionStream(effectDecision(call('m_2'), 1))).toBe('m_2');
    expect(decisionStream(budgetDecision(modelCallDecision(call('m3'), 0)))).toBe('m3');
    expect(decisionStream(timeoutDecision('agent', 'ask', 'm4', 1, 7))).toBe('m4');
    expect(decisionStream(waitDecision('agent', 'm5', 1, 9))).toBe('m5');
    expect(decisionStream(futureDecision('m6', 9))).toBe('m6');
    expect(decisionStream(tickDecision(9, 0))).toBeUndefined();
    expect(decisionStream('junk')).toBeUndefined();
  });

  it("records each decision in its stream's journal, and refuses one of a stream it does not hold rather than lose it", async () => {
    const journals = new JournalsByStream();
    const a = new MemoryDecisionJournal();
    const b = new MemoryDecisionJournal();
    journals.add('a', a);
    journals.add('b', b);
    await journals.record(modelCallDecision(call('a'), 0), { text: 'A' });
    await journals.record(modelCallDecision(call('b'), 0), { text: 'B' });
    expect([...a.recorded.keys()]).toEqual(['model:a:3:agent.ask:42:0']);
    expect(journals.value(modelCallDecision(call('b'), 0))).toEqual({ text: 'B' });
    expect(journals.has(modelCallDecision(call('a'), 1))).toBe(false);
    journals.remove('a');
    expect(journals.has(modelCallDecision(call('a'), 0))).toBe(false);
    expect(() => journals.record(modelCallDecision(call('a'), 1))).toThrow(/names no stream this worker owns/);
  });
});

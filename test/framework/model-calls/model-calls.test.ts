import { APICallError, type LanguageModelV3, type LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { generateObject, generateText, streamText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, Crew, DECISION_JOURNAL, OnEvent, type CrewContext, type Event, type ModelCallReport } from '../../../src/index.js';
import { createTestingApp, MemoryDecisionJournal, scriptedModel } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind: string, payload: object = {}, stream = 'm1') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: stream, payload });
const goals = [at(0, 'goal', { player: 'Kane' }), at(100, 'goal', { player: 'Saka' }), at(700, 'goal', { player: 'Rice' })];

@Crew({ id: 'commentator' })
class Commentator {
  @OnEvent('goal')
  async onGoal(event: Event<{ player: string }>, ctx: CrewContext) {
    const { text } = await generateText({ model: ctx.model(), prompt: `Goal by ${event.payload.player}`, abortSignal: ctx.signal });
    ctx.emit('line', { text });
    ctx.context.set('last', text);
  }
}

/** Replies with the prompt in capitals: a stand-in whose answer depends on the request. */
const shouting = () => scriptedModel((prompt) => prompt.toUpperCase());

describe('ctx.model(): model calls through the AI SDK', () => {
  it('a handler calls a configured model with generateText and emits its answer', async () => {
    const t = await createTestingApp({ crews: [Commentator], models: { commentator: shouting() } });
    const r = await t.run(goals);
    expect(r.errors).toEqual([]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ text: 'GOAL BY KANE' }, { text: 'GOAL BY SAKA' }, { text: 'GOAL BY RICE' }]);
    expect(r.context('m1')).toEqual({ last: 'GOAL BY RICE' });
  });

  it('structured output with a zod schema (generateObject), through the AI SDK mock model', async () => {
    const mock = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'text', text: '{"excitement":9,"headline":"Kane!"}' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } },
        warnings: [],
      }),
    });
    @Crew({ id: 'rater' })
    class Rater {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        const { object } = await generateObject({ model: ctx.model('rater'), schema: z.object({ excitement: z.number(), headline: z.string() }), prompt: 'rate it' });
        ctx.emit('rating', object);
      }
    }
    const t = await createTestingApp({ crews: [Rater], models: { rater: mock } });
    const r = await t.run([goals[0]]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ excitement: 9, headline: 'Kane!' }]);
    expect(mock.doGenerateCalls[0]!.responseFormat).toMatchObject({ type: 'json' });
  });

  it('a model name that is not configured fails the call naming the crew and the models there are', async () => {
    @Crew({ id: 'asker' })
    class Asker {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        await generateText({ model: ctx.model('gpt5'), prompt: 'x' });
      }
    }
    const t = await createTestingApp({ crews: [Asker], models: { commentator: shouting() } });
    const r = await t.run([goals[0]]);
    expect(r.errorsOf('handler_error')[0]!.payload.message).toContain('asked for model "gpt5", which is not configured: models: has commentator');
  });

  it('a crew whose model option names no configured model is refused at start', async () => {
    @Crew({ id: 'picky', model: 'nope' })
    class Picky {
      @OnEvent('goal') on() {}
    }
    const start = createTestingApp({ crews: [Picky], models: { commentator: shouting() } }).then((t) => t.run([goals[0]]));
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow('crew picky: model "nope" is not configured (models: has commentator)');
  });
});

describe('recorded model calls: journal and replay (DESIGN §9)', () => {
  it('a replay serves every answer from the journal, with no model call, and gives identical output', async () => {
    const journal = new MemoryDecisionJournal();
    const live = shouting();
    const recorded = await (await createTestingApp({ crews: [Commentator], models: { commentator: live }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(goals);
    expect(live.prompts).toHaveLength(3);
    expect([...journal.recorded.keys()]).toEqual(['model:m1:0:commentator.onGoal:0:0', 'model:m1:0:commentator.onGoal:1:0', 'model:m1:1:commentator.onGoal:2:0']);
    expect(JSON.stringify([...journal.recorded.values()])).not.toContain('Goal by Kane');

    // The replay's model would answer differently: only the journal can give the recorded output.
    const unused = scriptedModel('something else');
    const replay = new MemoryDecisionJournal(journal.recorded);
    const replayed = await (await createTestingApp({ crews: [Commentator], models: { commentator: unused }, providers: [{ token: DECISION_JOURNAL, useValue: replay }] })).run(goals);
    expect(unused.prompts).toEqual([]);
    expect(JSON.stringify(replayed.actions)).toBe(JSON.stringify(recorded.actions));
    expect(replayed.context('m1')).toEqual(recorded.context('m1'));
  });

  it("a successor that opens the run's journal (not a replay: it records too) reuses every answer there and pays for none again", async () => {
    const journal = new MemoryDecisionJournal();
    const model = shouting();
    const app = () => createTestingApp({ crews: [Commentator], models: { commentator: model }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] });
    const first = await (await app()).run(goals.slice(0, 2));
    expect(model.prompts).toHaveLength(2);
    // The successor runs the whole stream again, as a runner re-running slices after a crash does.
    const again = await (await app()).run(goals);
    expect(journal.replaying).toBe(false);
    expect(model.prompts).toEqual(['Goal by Kane', 'Goal by Saka', 'Goal by Rice']);
    expect(again.actions.slice(0, 2)).toEqual(first.actions);
  });

  it('streamText is recorded and replayed part by part', async () => {
    @Crew({ id: 'streamer' })
    class Streamer {
      @OnEvent('goal')
      async on(event: Event<{ player: string }>, ctx: CrewContext) {
        const result = streamText({ model: ctx.model(), prompt: event.payload.player });
        ctx.emit('line', { text: await result.text });
      }
    }
    const journal = new MemoryDecisionJournal();
    const first = await (await createTestingApp({ crews: [Streamer], models: { m: shouting() }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(goals);
    const again = await (
      await createTestingApp({ crews: [Streamer], models: { m: scriptedModel('other') }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(goals);
    expect(first.actions.map((a) => a.payload)).toEqual([{ text: 'KANE' }, { text: 'SAKA' }, { text: 'RICE' }]);
    expect(again.actions).toEqual(first.actions);
  });

  it('a call whose request differs from the recording is a replay_divergence naming crew, slice, call and what changed', async () => {
    const journal = new MemoryDecisionJournal();
    await (await createTestingApp({ crews: [Commentator], models: { commentator: shouting() }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(goals);
    const changed = [goals[0], at(100, 'goal', { player: 'Odegaard' }), goals[2]];
    const r = await (
      await createTestingApp({ crews: [Commentator], models: { commentator: shouting() }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(changed);
    expect(r.actions.map((a) => a.payload)).toEqual([{ text: 'GOAL BY KANE' }, { text: 'GOAL BY RICE' }]);
    const [divergence] = r.errorsOf('replay_divergence');
    expect(divergence!.payload).toMatchObject({ crew: 'commentator', slice: 0, event: { payload: { player: 'Odegaard' } } });
    expect(divergence!.payload.message).toBe(
      'model call 0 of commentator.onGoal (commentator, slice 0) differs from the recording: prompt changed since it was recorded; the recorded answer is not used (re-record the journal, or run with --replay-missing live to ask the model again)',
    );
  });

  it('a call the journal lacks fails as replay_divergence, or calls the model with replay_missing live', async () => {
    const journal = new MemoryDecisionJournal();
    await (await createTestingApp({ crews: [Commentator], models: { commentator: shouting() }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(goals.slice(0, 2));
    const replay = (missing: 'fail' | 'live') =>
      createTestingApp({
        crews: [Commentator],
        config: { replay_missing: missing },
        models: { commentator: shouting() },
        providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }],
      }).then((t) => t.run(goals));
    const strict = await replay('fail');
    expect(strict.actions).toHaveLength(2);
    expect(strict.errorsOf('replay_divergence')[0]!.payload.message).toContain('model call 0 of commentator.onGoal (commentator, slice 1) is not in the journal being replayed');
    const lenient = await replay('live');
    expect(lenient.errors).toEqual([]);
    expect(lenient.actions.map((a) => a.payload)).toEqual([{ text: 'GOAL BY KANE' }, { text: 'GOAL BY SAKA' }, { text: 'GOAL BY RICE' }]);
  });
});

/** A model that fails its first `failures` calls with `status`, then answers. */
function flaky(failures: number, status: number): LanguageModelV3 & { calls: number } {
  const inner = scriptedModel('fine');
  const model = {
    ...inner,
    calls: 0,
    async doGenerate(options: LanguageModelV3CallOptions) {
      model.calls++;
      if (model.calls <= failures) {
        throw new APICallError({ message: `HTTP ${status}`, url: 'http://127.0.0.1/v1', requestBodyValues: {}, statusCode: status, responseHeaders: { 'retry-after-ms': '1' } });
      }
      return inner.doGenerate(options);
    },
  };
  return model;
}

describe('budgets and resilience', () => {
  it('maxTokensPerSlice: once a slice of a stream has spent its tokens, the next model call fails its handler call as budget', async () => {
    @Crew({ id: 'spender', maxTokensPerSlice: 10 })
    class Spender {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        try {
          const { text } = await generateText({ model: ctx.model(), prompt: 'x'.repeat(40) });
          ctx.emit('line', { text });
        } catch {
          // A handler that swallows the refusal does not escape it: the call fails as budget.
          ctx.emit('line', { text: 'fallback' });
        }
      }
    }
    // Each answer costs 10 input + 1 output tokens: the first call of a slice fits, the second is refused.
    const r = await (await createTestingApp({ crews: [Spender], models: { m: scriptedModel('ok') } })).run([at(0, 'goal'), at(100, 'goal'), at(600, 'goal')]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ text: 'ok' }, { text: 'ok' }]);
    const [budget] = r.errorsOf('budget');
    expect(budget!.payload).toMatchObject({ crew: 'spender', slice: 0 });
    expect(budget!.payload.message).toBe(
      "model call 0 of spender.on (m, slice 0) refused: over the crew's model budget (11 tokens used in slice 0, maxTokensPerSlice is 10); the handler call fails as budget",
    );
  });

  it('maxCallsPerMinute refusals are journaled, so a replay refuses the same calls', async () => {
    @Crew({ id: 'chatty', maxCallsPerMinute: 2, maxErrors: 10 })
    class Chatty {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        const { text } = await generateText({ model: ctx.model(), prompt: 'hi' });
        ctx.emit('line', { text });
      }
    }
    const journal = new MemoryDecisionJournal();
    const events = [at(0, 'goal'), at(600, 'goal'), at(1200, 'goal'), at(1800, 'goal')];
    const live = await (await createTestingApp({ crews: [Chatty], models: { m: scriptedModel('ok') }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(events);
    expect(live.actions).toHaveLength(2);
    expect(live.errorsOf('budget').map((e) => e.payload.slice)).toEqual([2, 3]);
    expect([...journal.recorded.keys()].filter((key) => key.startsWith('budget:'))).toHaveLength(2);
    const replay = await (
      await createTestingApp({ crews: [Chatty], models: { m: scriptedModel('ok') }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(events);
    expect(replay.actions).toEqual(live.actions);
    expect(replay.errors).toEqual(live.errors);
  });

  it('a 429 or 5xx is retried (the retries journaled); a 400 is not; a failure replays as the same error', async () => {
    const journal = new MemoryDecisionJournal();
    const model = flaky(2, 429);
    const r = await (await createTestingApp({ crews: [Commentator], models: { commentator: model }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run([goals[0]]);
    expect(model.calls).toBe(3);
    expect(r.actions.map((a) => a.payload)).toEqual([{ text: 'fine' }]);
    expect(journal.recorded.get('model:m1:0:commentator.onGoal:0:0')).toMatchObject({ retries: [{ status: 429 }, { status: 429 }] });

    const refused = flaky(5, 400);
    const failing = new MemoryDecisionJournal();
    const bad = await (await createTestingApp({ crews: [Commentator], models: { commentator: refused }, providers: [{ token: DECISION_JOURNAL, useValue: failing }] })).run([goals[0]]);
    expect(refused.calls).toBe(1);
    const message = bad.errorsOf('handler_error')[0]!.payload.message;
    expect(message).toContain('model call 0 of commentator.onGoal (commentator, slice 0) failed: HTTP 400');
    const again = await (
      await createTestingApp({ crews: [Commentator], models: { commentator: flaky(0, 0) }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(failing.recorded) }] })
    ).run([goals[0]]);
    expect(again.errors).toEqual(bad.errors);
  });

  it('every call is reported to monitors with crew, model, outcome and tokens; replayed calls cost no tokens', async () => {
    const reports: ModelCallReport[] = [];
    const journal = new MemoryDecisionJournal();
    const observer = { modelCalled: (report: ModelCallReport) => void reports.push(report) };
    const t = await createTestingApp({ crews: [Commentator], models: { commentator: scriptedModel('ok') }, providers: [{ token: DECISION_JOURNAL, useValue: journal }], observer });
    await t.run([goals[0]]);
    await (
      await createTestingApp({
        crews: [Commentator],
        models: { commentator: scriptedModel('ok') },
        providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }],
        observer,
      })
    ).run([goals[0]]);
    expect(reports.map(({ seconds: _s, ...rest }) => rest)).toEqual([
      { crew: 'commentator', model: 'commentator', outcome: 'ok', inputTokens: 3, outputTokens: 1 },
      { crew: 'commentator', model: 'commentator', outcome: 'replayed', inputTokens: 0, outputTokens: 0 },
    ]);
  });
});

describe('the JSONL journal keeps model answers', () => {
  it('a run recorded to a file replays from it exactly, dates and all; a damaged line names file and line', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { InputError } = await import('../../../src/index.js');
    const { JsonlDecisionJournal } = await import('../../../src/embedded.js');
    const path = join(mkdtempSync(join(tmpdir(), 'live-crew-journal-')), 'journal.jsonl');
    @Crew({ id: 'stamper' })
    class Stamper {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        const { text, response } = await generateText({ model: ctx.model(), prompt: 'now?' });
        ctx.emit('line', { text, at: response.timestamp.toISOString(), isDate: response.timestamp instanceof Date });
      }
    }
    const stamped = new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'text', text: 'now' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } },
        response: { id: 'r1', timestamp: new Date(), modelId: 'mock' },
        warnings: [],
      }),
    });
    const live = await (await createTestingApp({ crews: [Stamper], models: { m: stamped }, providers: [{ token: DECISION_JOURNAL, useValue: new JsonlDecisionJournal({ recordTo: path }) }] })).run([
      goals[0],
    ]);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ decision: 'model:m1:0:stamper.on:0:0', value: { result: { response: { timestamp: { $date: expect.any(String) } } } } });
    // The same model (the digest names provider and model id), which would now fail: only the journal answers.
    const failing = new MockLanguageModelV3({ doGenerate: async () => Promise.reject(new Error('offline')) });
    const replayed = await (
      await createTestingApp({ crews: [Stamper], models: { m: failing }, providers: [{ token: DECISION_JOURNAL, useValue: new JsonlDecisionJournal({ replayFrom: path }) }] })
    ).run([goals[0]]);
    expect(replayed.errors).toEqual([]);
    expect(replayed.actions).toEqual(live.actions);
    expect(replayed.actions[0]!.payload).toMatchObject({ isDate: true });

    writeFileSync(path, `${lines[0]}\n{"decision": "model:x", "value": {"request": \n`);
    expect(() => new JsonlDecisionJournal({ replayFrom: path })).toThrow(InputError);
    expect(() => new JsonlDecisionJournal({ replayFrom: path })).toThrow(`${path}:2: not a journal line`);
  });
});

describe('model call log lines', () => {
  it('one info line per call with crew, model, outcome, tokens and time; the prompt only at debug', async () => {
    const { LOGGER } = await import('../../../src/index.js');
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
    const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, fields, msg });
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
    await (await createTestingApp({ crews: [Commentator], models: { commentator: shouting() }, providers: [{ token: LOGGER, useValue: logger }] })).run([goals[0]]);
    const call = lines.find((line) => line.msg === 'model call')!;
    expect(call.level).toBe('info');
    expect(call.fields).toMatchObject({ stream: 'm1', slice: 0, crew: 'commentator', model: 'commentator', outcome: 'ok', input_tokens: 3, output_tokens: 3, retries: 0, t_ms: expect.any(Number) });
    expect(JSON.stringify(lines.filter((line) => line.level !== 'debug'))).not.toContain('Goal by Kane');
    expect(lines.find((line) => line.msg === 'model request')).toMatchObject({ level: 'debug', fields: { prompt: [{ role: 'user', content: [{ type: 'text', text: 'Goal by Kane' }] }] } });
  });
});

describe('ctx.recorded: effects journaled like model answers', () => {
  /** Looks the weather up "outside": a counter stands in for the world, changing every call. */
  function weatherCrew(world: { calls: number; fail?: boolean }, name = 'weather') {
    @Crew({ id: 'forecaster' })
    class Forecaster {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        try {
          const weather = await ctx.recorded(name, async () => {
            world.calls++;
            if (world.fail) throw new Error('the weather service is down');
            return { temperature: 10 + world.calls, at: new Date(Date.UTC(2024, 4, 1, 12, world.calls)) };
          });
          ctx.emit('weather', { temperature: weather.temperature, isDate: weather.at instanceof Date });
        } catch (error) {
          ctx.emit('no_weather', { why: (error as Error).message });
        }
      }
    }
    return Forecaster;
  }

  it('runs an effect once; a replay returns what it returned, or throws what it threw, without running it', async () => {
    const world = { calls: 0 };
    const journal = new MemoryDecisionJournal();
    const live = await (await createTestingApp({ crews: [weatherCrew(world)], providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(goals);
    expect(live.actions.map((a) => a.payload)).toEqual([
      { temperature: 11, isDate: true },
      { temperature: 12, isDate: true },
      { temperature: 13, isDate: true },
    ]);
    expect(journal.recorded.get('effect:m1:0:forecaster.on:0:0')).toMatchObject({ name: 'weather', result: { temperature: 11 } });
    const replay = await (await createTestingApp({ crews: [weatherCrew(world)], providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })).run(goals);
    expect(world.calls).toBe(3);
    expect(replay.actions).toEqual(live.actions);

    const down = { calls: 0, fail: true };
    const failing = new MemoryDecisionJournal();
    const failed = await (await createTestingApp({ crews: [weatherCrew(down)], providers: [{ token: DECISION_JOURNAL, useValue: failing }] })).run([goals[0]]);
    expect(failed.actions.map((a) => a.payload)).toEqual([{ why: 'recorded effect 0 ("weather") of forecaster.on (slice 0) failed: the weather service is down' }]);
    const again = await (await createTestingApp({ crews: [weatherCrew({ calls: 0 })], providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(failing.recorded) }] })).run([
      goals[0],
    ]);
    expect(again.actions).toEqual(failed.actions);
  });

  it('a replay that reaches another effect, or one the journal lacks, is a replay_divergence; replay_missing live runs it', async () => {
    const journal = new MemoryDecisionJournal();
    await (await createTestingApp({ crews: [weatherCrew({ calls: 0 })], providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(goals.slice(0, 2));
    const renamed = await (
      await createTestingApp({ crews: [weatherCrew({ calls: 0 }, 'forecast')], providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run([goals[0]]);
    expect(renamed.actions).toEqual([]);
    expect(renamed.errorsOf('replay_divergence')[0]!.payload.message).toContain('recorded effect 0 ("forecast") of forecaster.on (slice 0) differs from the recording, which has "weather" there');
    const longer = await (await createTestingApp({ crews: [weatherCrew({ calls: 0 })], providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })).run(goals);
    expect(longer.errorsOf('replay_divergence').map((e) => e.payload.slice)).toEqual([1]);
    const world = { calls: 0 };
    const healed = await (
      await createTestingApp({ crews: [weatherCrew(world)], config: { replay_missing: 'live' }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(goals);
    expect([healed.errors, world.calls]).toEqual([[], 1]);
  });
});

import { generateObject, generateText, streamText } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, Crew, DECISION_JOURNAL, LOGGER, OnEvent, type CrewContext, type Event } from '../../../src/index.js';
import { createTestingApp, MemoryDecisionJournal, startChatCompletionsServer, type ChatCompletionsServer } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind: string, payload: object = {}) => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: 'm1', payload });

@Crew({ id: 'pundit', model: 'local' })
class Pundit {
  @OnEvent('goal')
  async onGoal(event: Event<{ player: string }>, ctx: CrewContext) {
    const { text } = await generateText({ model: ctx.model(), system: 'Be brief.', prompt: `Goal by ${event.payload.player}`, abortSignal: ctx.signal });
    const streamed = await streamText({ model: ctx.model(), prompt: `Again: ${event.payload.player}`, abortSignal: ctx.signal }).text;
    const { object } = await generateObject({ model: ctx.model(), schema: z.object({ stars: z.number() }), prompt: 'rate', abortSignal: ctx.signal });
    ctx.emit('line', { text, streamed, stars: object.stars });
  }
}

let server: ChatCompletionsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const localModel = (url: string) => ({ local: { provider: 'openai-compatible' as const, model: 'local-model', base_url: url } });

describe('a model behind the real OpenAI-compatible provider package, on a local chat-completions server', () => {
  it('text, streamed text and structured output reach the handler; the replay needs no server', async () => {
    server = await startChatCompletionsServer({
      reply: (request) => (request.body['response_format'] ? '{"stars": 5}' : `${request.stream ? 'streamed' : 'said'}: ${JSON.stringify(request.messages.at(-1)!.content)}`),
    });
    const journal = new MemoryDecisionJournal();
    const events = [at(0, 'goal', { player: 'Kane' }), at(600, 'goal', { player: 'Saka' })];
    const live = await (await createTestingApp({ crews: [Pundit], config: { models: localModel(server.url) }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(events);
    expect(live.errors).toEqual([]);
    expect(live.actions[0]!.payload).toEqual({ text: 'said: "Goal by Kane"', streamed: 'streamed: "Again: Kane"', stars: 5 });
    expect(server.requests.map((r) => [r.model, r.stream])).toEqual([
      ['local-model', false],
      ['local-model', true],
      ['local-model', false],
      ['local-model', false],
      ['local-model', true],
      ['local-model', false],
    ]);
    expect(server.requests[0]!.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });

    const url = server.url;
    await server.close();
    server = undefined;
    const replay = await (
      await createTestingApp({ crews: [Pundit], config: { models: localModel(url) }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(events);
    expect(JSON.stringify(replay.actions)).toBe(JSON.stringify(live.actions));
  });

  it.each([
    ['negative prompt_tokens', (counted: { completion_tokens: number }) => ({ prompt_tokens: -1_000_000, completion_tokens: counted.completion_tokens, total_tokens: -1 })],
    ['no usage at all', () => undefined],
  ])('a server reporting %s never lets a crew past max_tokens_per_slice: what the text implies counts, with one warning per model', async (_name, usage) => {
    server = await startChatCompletionsServer({ reply: () => 'x'.repeat(80), usage });
    @Crew({ id: 'frugal', model: 'local', maxTokensPerSlice: 30, maxErrors: 10 })
    class Frugal {
      @OnEvent('goal')
      async on(_event: Event, ctx: CrewContext) {
        const { text } = await generateText({ model: ctx.model(), prompt: 'say it', abortSignal: ctx.signal });
        ctx.emit('line', { length: text.length });
      }
    }
    const warnings: Array<{ fields: object; message: string }> = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (fields: object, message: string) => void warnings.push({ fields, message }), child: () => logger };
    // 80 characters of answer count 20 tokens, its prompt more: the first call of a slice fits, the second is refused.
    const r = await (await createTestingApp({ crews: [Frugal], config: { models: localModel(server.url) }, providers: [{ token: LOGGER, useValue: logger }] })).run([
      at(0, 'goal'),
      at(100, 'goal'),
      at(600, 'goal'),
    ]);
    expect(r.actions).toHaveLength(2);
    expect(r.errorsOf('budget').map((e) => e.payload.slice)).toEqual([0]);
    expect(r.errorsOf('budget')[0]!.payload.message).toMatch(/over the crew's model budget \(\d+ tokens used in slice 0, maxTokensPerSlice is 30\)/);
    expect(warnings.filter((w) => /reported no usable token counts/.test(w.message))).toEqual([
      { fields: expect.objectContaining({ model: 'local' }), message: expect.stringMatching(/^model local reported no usable token counts .*4 characters a token/) },
    ]);
  });

  it("a 429 is retried as the server's retry-after-ms asks, and the retries are journaled", async () => {
    server = await startChatCompletionsServer({ reply: () => '{"stars": 1}', failFirst: { count: 2, status: 429, retryAfterMs: 5 } });
    const journal = new MemoryDecisionJournal();
    const r = await (await createTestingApp({ crews: [Pundit], config: { models: localModel(server.url) }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run([
      at(0, 'goal', { player: 'Kane' }),
    ]);
    expect(r.errors).toEqual([]);
    expect(server.requests).toHaveLength(5);
    expect(journal.recorded.get('model:m1:0:pundit.onGoal:0:0')).toMatchObject({ retries: [{ status: 429 }, { status: 429 }] });
  });

  it('a server that keeps failing fails the call after max_retries, with the status in the error record', async () => {
    server = await startChatCompletionsServer({ failFirst: { count: 100, status: 503 } });
    const r = await (await createTestingApp({ crews: [Pundit], config: { models: { local: { ...localModel(server.url).local, max_retries: 1 } } } })).run([at(0, 'goal', { player: 'Kane' })]);
    expect(server.requests).toHaveLength(2);
    expect(r.errorsOf('handler_error')[0]!.payload.message).toMatch(/^pundit\.onGoal threw: model call 0 of pundit\.onGoal \(local, slice 0\) failed after 1 retry: simulated 503/);
  });
});

describe('models: configuration is checked at start', () => {
  it('a hosted provider whose key is not set names the config key and the variable', async () => {
    delete process.env['LIVE_CREW_TEST_MISSING_KEY'];
    const start = createTestingApp({ crews: [Pundit], config: { models: { local: { provider: 'openai', model: 'gpt-4o-mini', api_key_env: 'LIVE_CREW_TEST_MISSING_KEY' } } } }).then((t) => t.run([]));
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow("models.local.api_key_env: the environment variable LIVE_CREW_TEST_MISSING_KEY holding openai's API key is not set");
  });

  it('an unknown provider and a missing base_url name their keys', async () => {
    const bad = (models: unknown) =>
      createTestingApp({ crews: [Pundit], config: { models } as never }).then(
        () => 'started',
        (e: Error) => e.message,
      );
    expect(await bad({ local: { provider: 'openia', model: 'x' } })).toContain("models.local.provider: must name a provider: 'openai', 'anthropic', 'openai-compatible'");
    expect(await bad({ local: { provider: 'openai-compatible', model: 'x' } })).toContain('models.local.base_url: must be an http:// or https:// URL');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { generateText, stepCountIs } from 'ai';
import { describe, expect, it } from 'vitest';
import { ConfigError, Crew, DECISION_JOURNAL, OnEvent, vectorTools, type CrewContext, type Event } from '../../../src/index.js';
import { loadCrewModule } from '../../../src/framework/discovery/crew-module.js';
import { createTestingApp, hashEmbedder, MemoryDecisionJournal } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind: string, payload: object = {}, stream = 'm1') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: stream, payload });
const usage = { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } };

/**
 * A model that acts as an agent would: with no tool result in its prompt it calls `tool` with the
 * last user text as its input; once it has a result, it answers with that result's JSON.
 */
function agentModel(tool: 'vector_search' | 'fact_insert', inputOf: (text: string) => object): LanguageModelV3 & { calls: LanguageModelV3CallOptions[] } {
  const calls: LanguageModelV3CallOptions[] = [];
  return {
    specificationVersion: 'v3',
    provider: 'test',
    modelId: 'agent',
    supportedUrls: {},
    calls,
    doGenerate: async (options): Promise<LanguageModelV3GenerateResult> => {
      calls.push(options);
      const result = options.prompt.flatMap((message) => (message.role === 'tool' ? message.content : [])).at(-1);
      if (result !== undefined && result.type === 'tool-result') {
        return { content: [{ type: 'text', text: JSON.stringify(result.output) }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
      }
      const user = options.prompt.filter((message) => message.role === 'user').at(-1)!;
      const text = user.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
      return {
        content: [{ type: 'tool-call', toolCallId: `call-${calls.length}`, toolName: tool, input: JSON.stringify(inputOf(text)) }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    },
    doStream: () => Promise.reject(new Error('not streamed')),
  };
}

const facts = [
  at(0, 'fact', { text: 'Kane has scored in five straight matches' }),
  at(100, 'fact', { text: 'Saka plays on the right wing' }),
  at(600, 'question', { text: 'who has scored in five matches' }),
];

@Crew({ id: 'learner' })
class Learner {
  @OnEvent('fact')
  async on(event: Event<{ text: string }>, ctx: CrewContext) {
    await generateText({ model: ctx.model('learner'), tools: vectorTools(ctx), stopWhen: stepCountIs(3), prompt: event.payload.text, abortSignal: ctx.signal });
  }
}

@Crew({ id: 'answerer' })
class Answerer {
  @OnEvent('question')
  async on(event: Event<{ text: string }>, ctx: CrewContext) {
    const { text } = await generateText({ model: ctx.model('answerer'), tools: vectorTools(ctx, { topK: 1 }), stopWhen: stepCountIs(3), prompt: event.payload.text, abortSignal: ctx.signal });
    ctx.emit('answer', JSON.parse(text));
  }
}

const embedders = { default: hashEmbedder({ dimensions: 64 }) };
const config = { vector: { backend: 'memory' as const } };

describe('built-in tools vector_search and fact_insert (DESIGN §10)', () => {
  it("a TypeScript model crew inserts facts and another finds them, through the AI SDK's tool loop", async () => {
    const models = { learner: agentModel('fact_insert', (text) => ({ fact: text })), answerer: agentModel('vector_search', (text) => ({ query: text, top_k: 5 })) };
    const t = await createTestingApp({ crews: [Learner, Answerer], models, embedders, config });
    const r = await t.run(facts);
    expect(r.errors).toEqual([]);
    // The crew's topK (1) caps what the model asks for (5); the fact carries the slice and stream it was learnt in.
    expect(r.actions[0]!.payload).toEqual({
      type: 'json',
      value: { documents: [{ id: 'm1:0:learner.on:0:0', text: 'Kane has scored in five straight matches', score: expect.any(Number), payload: { kind: 'fact', slice: 0, stream_id: 'm1' } }] },
    });
    const offered = models.answerer.calls[0]!.tools!.map((tool) => tool.name).sort();
    expect(offered).toEqual(['fact_insert', 'vector_search']);
  });

  it("a replay is exact: the model's tool calls and the search come from the journal", async () => {
    const journal = new MemoryDecisionJournal();
    const models = () => ({ learner: agentModel('fact_insert', (text) => ({ fact: text })), answerer: agentModel('vector_search', (text) => ({ query: text })) });
    const recorded = await (await createTestingApp({ crews: [Learner, Answerer], models: models(), embedders, config, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })).run(facts);
    const replayModels = models();
    const replayed = await (
      await createTestingApp({ crews: [Learner, Answerer], models: replayModels, embedders, config, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(facts);
    expect(replayed.errors).toEqual([]);
    expect(JSON.stringify(replayed.actions)).toBe(JSON.stringify(recorded.actions));
    expect(replayModels.answerer.calls).toEqual([]);
    expect([...journal.recorded.keys()].filter((key) => key.startsWith('effect:')).map((key) => (journal.recorded.get(key) as { name: string }).name)).toEqual([
      'embed:default',
      'embed:default',
      'vectors.search',
    ]);
  });

  it("a YAML crew lists the tools, on a collection of its own; the model's bad tool input goes back to it as an error", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-tools-'));
    writeFileSync(
      join(dir, 'clipper.crew.yaml'),
      [
        'id: clipper',
        'triggers: [goal, question]',
        'model: agent',
        'user_template: "{{ event.payload.text }}"',
        'tools:',
        '  - { name: vector_search, collection: moments, top_k: 2 }',
        '  - { name: fact_insert, collection: moments }',
        'outputs:',
        '  - kind: said',
        '    payload: { text: "{{ outputs.text }}" }',
        '',
      ].join('\n'),
    );
    const { crews } = await loadCrewModule(dir);
    let asked = 0;
    const agent = agentModel('vector_search', (text) => (asked++ === 0 ? { query: 42 } : { query: text }));
    const inserter = agentModel('fact_insert', (text) => ({ fact: text }));
    const model: LanguageModelV3 = {
      ...agent,
      doGenerate: (options) => (options.prompt.some((m) => m.role === 'user' && JSON.stringify(m.content).includes('Goal')) ? inserter : agent).doGenerate(options),
    };
    const t = await createTestingApp({ crews, models: { agent: model }, embedders, config });
    const r = await t.run([at(0, 'goal', { text: 'Goal by Kane, a header' }), at(600, 'question', { text: 'kane header' }), at(700, 'question', { text: 'kane header' })]);
    expect(r.errors).toEqual([]);
    const said = r.actions.map((a) => JSON.parse((a.payload as { text: string }).text) as { type: string; value: unknown });
    expect(said[1]).toEqual({ type: 'error-text', value: expect.stringContaining('invalid input for vector_search: query') });
    expect(said[2]).toEqual({ type: 'json', value: { documents: [expect.objectContaining({ text: 'Goal by Kane, a header', payload: { kind: 'fact', slice: 0, stream_id: 'm1' } })] } });
    expect(agent.calls[0]!.tools!.find((tool) => tool.name === 'vector_search')).toMatchObject({
      type: 'function',
      description: expect.stringContaining('"moments"'),
      inputSchema: { type: 'object', required: ['query'] },
    });
  });

  it('a YAML crew naming a tool twice, tools without a model prompt, or a bad collection is refused at load', async () => {
    const refused = async (text: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'live-crew-tools-'));
      writeFileSync(join(dir, 'bad.crew.yaml'), text);
      return loadCrewModule(dir).then(
        () => 'loaded',
        (error: unknown) => (error instanceof ConfigError ? error.message : String(error)),
      );
    };
    expect(await refused('id: bad\ntriggers: x\nuser_template: q\ntools: [vector_search, { name: vector_search, top_k: 3 }]\npatch: { a: 1 }\n')).toContain('tools[1]: lists vector_search twice');
    expect(await refused('id: bad\ntriggers: x\ntools: [fact_insert]\npatch: { a: 1 }\n')).toContain('tools: needs a user_template: tools are offered to the model');
    expect(await refused('id: bad\ntriggers: x\nuser_template: q\ntools: [{ name: vector_search, collection: Moments }]\npatch: { a: 1 }\n')).toContain('tools[0].collection');
  });
});

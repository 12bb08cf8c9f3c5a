import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The built package, as a user runs it: isolates load the built framework and the crews module.
import { ACTION_SINK, ConfigError, createLiveCrewApp, DECISION_JOURNAL, ERROR_SINK, EVENT_SOURCE, LOGGER, type EventSource, type Interceptor, type LiveCrewAppOptions } from '../../dist/index.js';
// The launcher port is not public: the test wraps the default one to see what goes to the isolates.
import { nodeIsolates } from '../../dist/adapters/node-isolation/node-isolate-launcher.js';
import { ISOLATE_LAUNCHER } from '../../dist/framework/tokens.js';
import type { IsolateLauncher } from '../../dist/framework/ports/isolate-launcher.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, hashEmbedder, MemoryDecisionJournal, scriptedModel } from '../../dist/testing.js';
import { crews as injecting } from './fixtures/injecting-crew.js';
import { crews } from './fixtures/isolated-crews.js';
import { PushSource } from './fixtures/push-source.js';

const MODULE = join(import.meta.dirname, 'fixtures', 'isolated-crews.js');
const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind = 'tick', payload: Record<string, unknown> = {}) => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: 'm1', payload });

type Isolation = 'none' | 'worker' | 'process';

/** An app of the fixture crews over `source`, collecting what it sends. */
async function appOver(isolation: Isolation, source: EventSource, config: Record<string, unknown> = {}, extra: Pick<LiveCrewAppOptions, 'models' | 'embedders' | 'providers' | 'interceptors'> = {}) {
  const actions = new CollectingActionSink();
  const errors = new CollectingErrorSink();
  const app = await createLiveCrewApp({
    crews,
    crewsModule: MODULE,
    configFile: false,
    env: {},
    config: { isolation, log_level: 'silent', ...config },
    ...(extra.models ? { models: extra.models } : {}),
    ...(extra.embedders ? { embedders: extra.embedders } : {}),
    ...(extra.interceptors ? { interceptors: extra.interceptors } : {}),
    providers: [{ token: EVENT_SOURCE, useValue: source }, { token: ACTION_SINK, useValue: actions }, { token: ERROR_SINK, useValue: errors }, ...(extra.providers ?? [])],
  });
  return { app, actions, errors };
}

async function run(isolation: Isolation, events: readonly unknown[], config: Record<string, unknown> = {}, extra: Pick<LiveCrewAppOptions, 'models' | 'embedders' | 'providers'> = {}) {
  const { app, actions, errors } = await appOver(isolation, new ArrayEventSource(events), config, extra);
  const summary = await app.run();
  return { actions: actions.actions, errors: errors.errors, summary, context: app.context('m1') };
}

const kinds = (records: readonly { payload: { reason?: string } }[]) => records.map((r) => r.payload.reason);

describe.each(['worker', 'process'] as const)('isolation: %s (DESIGN §8)', (isolation) => {
  it('gives the output of the same crews run in process: reads S(n-1) and its own writes, merges its writes', async () => {
    const events = [at(0), at(100), at(600), at(1200), at(1300)];
    const inProcess = await run('none', events);
    const isolated = await run(isolation, events);
    expect(isolated.actions).toEqual(inProcess.actions);
    expect(isolated.errors).toEqual([]);
    expect(isolated.context).toEqual(inProcess.context);
    expect(isolated.context).toEqual({ seen: 5, bystander: 'tick' });
  });

  it('hands the crew its event and the context frozen, as in process: changing either fails alike', async () => {
    const events = [at(0, 'bag'), at(600, 'poke', { target: 'event', n: 1 }), at(700, 'poke', { target: 'context' })];
    const inProcess = await run('none', events);
    const isolated = await run(isolation, events);
    expect(kinds(inProcess.errors)).toEqual(['handler_error', 'handler_error']);
    expect(isolated.errors.map((e) => [e.payload.reason, e.payload.message.split(':')[0]])).toEqual(inProcess.errors.map((e) => [e.payload.reason, e.payload.message.split(':')[0]]));
    expect(isolated.actions.filter((a) => a.kind === 'poked')).toEqual([]);
  });

  it('makes its model calls through the app: journaled there, answered alike, replayed exactly without the model', async () => {
    const events = [at(0, 'ask', { q: 'kane' }), at(600, 'ask', { q: 'saka' })];
    const journal = new MemoryDecisionJournal();
    const live = await run(isolation, events, {}, { models: { m: scriptedModel((prompt) => prompt.toUpperCase()) }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] });
    expect(live.errors).toEqual([]);
    expect(live.actions.filter((a) => a.kind === 'answered').map((a) => a.payload)).toEqual([
      { text: 'KANE', at: false },
      { text: 'SAKA', at: false },
    ]);
    expect([...journal.recorded.keys()]).toEqual(['model:m1:0:agent.ask:0:0', 'model:m1:1:agent.ask:1:0']);
    const unused = scriptedModel('other');
    const replay = await run(isolation, events, {}, { models: { m: unused }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] });
    expect(unused.prompts).toEqual([]);
    expect(replay.actions).toEqual(live.actions);
  });

  it("sends a lane's waiting calls of a slice to its isolate together: fewer messages than calls, each call run once, a model call asked ahead answered in its turn", async () => {
    const events = [...[0, 10, 20, 30].map((ms) => at(ms)), at(35, 'ask', { q: 'kane' }), ...[40, 50, 60, 600, 610].map((ms) => at(ms))];
    const sent: { type?: string; calls?: unknown[] }[] = [];
    const counting: IsolateLauncher = {
      launch(launch, events) {
        const link = nodeIsolates.launch(launch, events);
        const send = (message: unknown) => {
          sent.push(message as (typeof sent)[number]);
          link.send(message);
        };
        return { send, kill: () => link.kill(), drained: link.drained };
      },
    };
    const models = { m: scriptedModel((prompt) => prompt.toUpperCase()) };
    const inProcess = await run('none', events, {}, { models });
    const isolated = await run(isolation, events, {}, { models, providers: [{ token: ISOLATE_LAUNCHER, useValue: counting }] });
    expect(isolated.errors).toEqual([]);
    expect(isolated.actions).toEqual(inProcess.actions);
    expect(isolated.context).toEqual(inProcess.context);
    const calls = sent.filter((message) => message.type === 'calls').map((message) => message.calls as { crew: string; position: number; method: string }[]);
    const named = calls.flat().map((call) => `${call.crew}.${call.method}@${call.position}`);
    expect(new Set(named).size, 'no call sent twice').toBe(named.length);
    expect(named.filter((call) => call.startsWith('agent.')).length, "every one of agent's calls sent").toBe(events.length);
    expect(calls.length, `calls per message: ${calls.map((batch) => batch.length).join(', ')}`).toBeLessThan(named.length / 2);
  });

  it("searches, upserts and deletes vectors through the app: held in the call's scope there, as in process, and replayed exactly", async () => {
    const events = [
      at(0, 'remember', { text: 'Kane header from a corner', n: 1 }),
      at(100, 'remember', { text: 'Saka shot over the bar', n: 2 }),
      at(200, 'forget', { id: 'm1:0:agent.remember:0:0', fail: true }),
      at(600, 'recall', { text: 'a header by Kane' }),
      at(700, 'forget', { id: 'm1:0:agent.remember:0:0' }),
      at(1200, 'recall', { text: 'a header by Kane' }),
    ];
    const options = { embedders: { default: hashEmbedder({ dimensions: 32 }) } };
    const config = { vector: { backend: 'memory' } };
    const inProcess = await run('none', events, config, options);
    const journal = new MemoryDecisionJournal();
    const isolated = await run(isolation, events, config, { ...options, providers: [{ token: DECISION_JOURNAL, useValue: journal }] });
    expect(isolated.errors.map((e) => e.payload.message)).toEqual(['agent.forget threw: forgetting fails']);
    expect(isolated.actions).toEqual(inProcess.actions);
    const recalled = isolated.actions.filter((a) => a.kind === 'recalled').map((a) => a.payload);
    expect(recalled).toEqual([
      { ids: ['m1:0:agent.remember:0:0', 'm1:0:agent.remember:1:0'], texts: ['Kane header from a corner', 'Saka shot over the bar'], length: 32 },
      { ids: ['m1:0:agent.remember:1:0'], texts: ['Saka shot over the bar'], length: 32 },
    ]);
    const replay = await run(isolation, events, config, {
      embedders: { default: { ...hashEmbedder({ dimensions: 32 }), doEmbed: () => Promise.reject(new Error('a replay must not embed')) } },
      providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }],
    });
    expect(replay.actions).toEqual(isolated.actions);
  });

  it('journals its recorded effects in the app: a replay returns what the effect returned without running it', async () => {
    const events = [at(0, 'roll'), at(600, 'roll')];
    const journal = new MemoryDecisionJournal();
    const live = await run(isolation, events, {}, { providers: [{ token: DECISION_JOURNAL, useValue: journal }] });
    const rolled = live.actions.filter((a) => a.kind === 'rolled');
    expect(rolled).toHaveLength(2);
    expect(journal.recorded.get('effect:m1:0:agent.roll:0:0')).toEqual({ name: 'dice', result: (rolled[0]!.payload as { value: number }).value });
    const replay = await run(isolation, events, {}, { providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] });
    expect(replay.actions).toEqual(live.actions);
  });

  it('stops a synchronous infinite loop at timeoutMs, records a timeout, and the next call runs in a new isolate', async () => {
    const r = await run(isolation, [at(0), at(10, 'loop'), at(20), at(700)]);
    expect(kinds(r.errors)).toEqual(['timeout']);
    expect(r.errors[0]!.payload).toMatchObject({ crew: 'agent', message: 'agent.loop took longer than timeoutMs 300; its actions and writes were discarded' });
    expect(r.actions.filter((a) => a.kind === 'counted').map((a) => (a.payload as { seen: number }).seen)).toEqual([1, 2, 3]);
  });

  it('fails only the call in flight when its isolate exits, counts it towards maxErrors, and restarts it', async () => {
    const r = await run(isolation, [at(0, 'exit'), at(10), at(20, 'exit'), at(30), at(40, 'exit'), at(50, 'exit'), at(60, 'exit'), at(70)]);
    const what = isolation === 'worker' ? 'worker thread' : 'child process';
    const crashed = { reason: 'handler_error', crew: 'agent', message: `crew agent's ${what} exited with code 3; the call it was running failed and a new one starts` };
    // Calls between the crashes succeed, so the streak starts again; three crashes in a row disable it.
    expect(r.errors.map((e) => e.payload)).toEqual([
      expect.objectContaining(crashed),
      expect.objectContaining(crashed),
      expect.objectContaining(crashed),
      expect.objectContaining(crashed),
      expect.objectContaining(crashed),
      expect.objectContaining({ reason: 'disabled', crew: 'agent' }),
    ]);
    expect(r.actions.filter((a) => a.kind === 'counted')).toHaveLength(2);
    expect(r.actions.filter((a) => a.kind === 'seen')).toHaveLength(8);
  });

  it('fails the call that runs its isolate out of memoryLimitMb, and the next call runs', async () => {
    const r = await run(isolation, [at(0, 'hog'), at(10)]);
    const what = isolation === 'worker' ? 'worker thread' : 'child process';
    expect(r.errors.map((e) => e.payload)).toEqual([expect.objectContaining({ reason: 'handler_error', crew: 'hoarder', message: expect.stringMatching(new RegExp(`^crew hoarder's ${what} `)) })]);
    expect(r.actions.filter((a) => a.kind === 'hoarder_ok')).toHaveLength(1);
  });

  it('counts buffers against memoryLimitMb too, as they grow or all at once: the call fails naming what it held, the next call runs', async () => {
    const r = await run(isolation, [at(0, 'buffers'), at(10), at(20, 'bulk'), at(30)]);
    expect(r.errors.map((e) => e.payload)).toEqual([
      expect.objectContaining({ reason: 'handler_error', crew: 'hoarder', message: expect.stringMatching(/held \d+ MB of heap and buffers, over its memoryLimitMb of 32/) }),
      expect.objectContaining({ reason: 'handler_error', crew: 'hoarder', message: expect.stringMatching(/held \d+ MB of heap and buffers, over its memoryLimitMb of 32/) }),
    ]);
    expect(r.actions.filter((a) => a.kind === 'hoarder_ok').map((a) => a.payload)).toEqual([{}, {}]);
  });

  it("constructs the crew with what it injects from the isolate's own container: its clock and logger", async () => {
    const actions = new CollectingActionSink();
    const errors = new CollectingErrorSink();
    const app = await createLiveCrewApp({
      crews: injecting,
      crewsModule: join(import.meta.dirname, 'fixtures', 'injecting-crew.js'),
      configFile: false,
      env: {},
      config: { isolation, log_level: 'silent' },
      providers: [
        { token: EVENT_SOURCE, useValue: new ArrayEventSource([at(0, 'stamp')]) },
        { token: ACTION_SINK, useValue: actions },
        { token: ERROR_SINK, useValue: errors },
      ],
    });
    await app.run();
    expect(errors.errors).toEqual([]);
    expect(actions.actions.map((a) => [a.kind, a.payload])).toEqual([['stamped', { now: true }]]);
  });

  it('logs what the crew prints with its id, and never lets it reach the actions', async () => {
    const printed: Array<{ fields: object; message: string }> = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (fields: object, message: string) => void printed.push({ fields, message }), child: () => logger };
    const r = await run(isolation, [at(0, 'shout')], {}, { providers: [{ token: LOGGER, useValue: logger }] });
    expect(r.actions.map((a) => a.kind).sort()).toEqual(['hoarder_ok', 'seen']);
    expect(printed).toEqual(
      expect.arrayContaining([
        { fields: { crew: 'hoarder', output: 'stdout' }, message: expect.stringMatching(new RegExp(`^crew hoarder \\(${isolation} isolate\\) wrote to its stdout: \\{.*"kind":"forged"`)) },
        { fields: { crew: 'hoarder', output: 'stderr' }, message: `crew hoarder (${isolation} isolate) wrote to its stderr: a word on stderr` },
      ]),
    );
  });

  it('ends the call in flight when the app stops, even one that never looks at its signal', async () => {
    const source = new PushSource();
    let looping!: () => void;
    const started = new Promise<void>((resolve) => (looping = resolve));
    // The app's interceptor sees the call go to the isolate: the stop comes while it loops there.
    const seen: Interceptor = {
      intercept(call, next) {
        if (call.event.kind === 'loop') looping();
        return next();
      },
    };
    const { app, errors } = await appOver(isolation, source, { mode: 'live', max_future_ms: null }, { interceptors: [seen] });
    const running = app.run();
    source.push({ ...at(Date.now() - T0, 'loop') });
    await started;
    // Without the kill, the stop would wait stop_timeout_ms and then abandon the call (another record).
    await app.stop();
    await running;
    expect(errors.errors.map((e) => e.payload)).toEqual([
      expect.objectContaining({ reason: 'handler_error', crew: 'agent', message: 'agent.loop was ended by the app stopping (its ctx.signal aborted); its actions and writes were discarded' }),
    ]);
  });
});

describe('isolation: determinism (property-based)', () => {
  it('a crew run in worker threads gives the in-process output for any input: actions in order, errors, context', async () => {
    const eventsArb = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 700 }), stream: fc.constantFrom('m1', 'm2') }), { minLength: 1, maxLength: 25 }).map((items) => {
      let ts = T0;
      return items.map(({ gap, stream }) => ({ ts: new Date((ts += gap)).toISOString(), kind: 'tick', stream_id: stream, payload: {} }));
    });
    await fc.assert(
      fc.asyncProperty(eventsArb, async (events) => {
        const inProcess = await run('none', events);
        const isolated = await run('worker', events);
        expect(isolated.actions).toEqual(inProcess.actions);
        expect(isolated.errors).toEqual(inProcess.errors);
        expect(isolated.context).toEqual(inProcess.context);
      }),
      { numRuns: 8 },
    );
  });
});

describe('isolation: process sandbox', () => {
  it('lets the crew write only where isolation_allow_write says, and start no process', async () => {
    const allowed = mkdtempSync(join(tmpdir(), 'live-crew-allowed-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'live-crew-elsewhere-'));
    const r = await run('process', [at(0, 'write', { path: join(allowed, 'ok.txt') }), at(10, 'write', { path: join(elsewhere, 'no.txt') }), at(20, 'spawn')], { isolation_allow_write: [allowed] });
    expect(r.actions.filter((a) => a.kind !== 'seen').map((a) => [a.kind, a.payload])).toEqual([
      ['wrote', { path: join(allowed, 'ok.txt') }],
      ['refused', { what: 'write', code: 'ERR_ACCESS_DENIED' }],
      ['refused', { what: 'spawn', code: 'ERR_ACCESS_DENIED' }],
    ]);
  });
});

describe('isolation: set-up', () => {
  it('refuses isolated crews without the module to load them from, naming them and what to give', async () => {
    await expect(createLiveCrewApp({ crews, configFile: false, env: {}, config: { isolation: 'worker', log_level: 'silent' } })).rejects.toThrow(ConfigError);
    await expect(createLiveCrewApp({ crews, configFile: false, env: {}, config: { isolation: 'worker', log_level: 'silent' } })).rejects.toThrow(
      /crews agent, hoarder run isolated \(isolation: worker or process\).*crewsModule/,
    );
  });

  it('stops the run at start when the module does not export the crew, naming crew and module', async () => {
    const other = join(import.meta.dirname, '..', 'cli', 'fixtures', 'hostile-crews.js');
    const app = await createLiveCrewApp({
      crews,
      crewsModule: other,
      configFile: false,
      env: {},
      config: { isolation: 'worker', log_level: 'silent' },
      providers: [{ token: EVENT_SOURCE, useValue: new ArrayEventSource([at(0)]) }],
    });
    await expect(app.run()).rejects.toThrow(
      /^crew agent runs isolated and could not start there: crew agent runs isolated, so it is loaded from .*hostile-crews\.js, which does not export it.*\ncrew hoarder runs isolated and could not start there/,
    );
  });
});

import { generateText } from 'ai';
import { describe, expect, it } from 'vitest';
import { DashboardFeed, STREAMS_KEPT } from '../../../src/adapters/dashboard/dashboard-feed.js';
import { applyPatch, RECORDS_KEPT, type DashboardView } from '../../../src/adapters/dashboard/dashboard-view.js';
import { ACTION_SINK, createLiveCrewApp, Crew, DependsOn, ERROR_SINK, EVENT_SOURCE, OnEvent, type CrewContext, type Event } from '../../../src/index.js';
import { CollectingActionSink, CollectingErrorSink, createTestingApp, scriptedModel } from '../../../src/testing.js';
import { PushSource } from '../../framework/fixtures/push-source.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind: string, payload: Record<string, unknown> = {}, stream = 'm1') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: stream, payload });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function gate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

@Crew({ id: 'score' })
class Score {
  @OnEvent('goal')
  onGoal(event: Event<{ team: 'home' | 'away' }>, ctx: CrewContext) {
    const score = (ctx.context.get('score') as { home: number; away: number } | undefined) ?? { home: 0, away: 0 };
    ctx.context.set('score', { ...score, [event.payload.team]: score[event.payload.team] + 1 });
  }
}

@Crew({ id: 'overlay' })
class Overlay {
  @OnEvent('goal')
  onGoal(event: Event<{ team: string }>, ctx: CrewContext) {
    ctx.emit('overlay', { team: event.payload.team });
  }
}

@Crew({ id: 'referee', maxErrors: 1 })
@DependsOn({ crew: 'score', offset: -1 })
class Referee {
  @OnEvent('card')
  onCard(event: Event<{ colour?: string }>, ctx: CrewContext) {
    if (event.payload.colour === undefined) throw new Error('malformed card');
    ctx.emit('alert', { colour: event.payload.colour });
  }
}

@Crew({ id: 'pundit' })
class Pundit {
  @OnEvent('goal')
  async onGoal(_event: Event, ctx: CrewContext) {
    const { text } = await generateText({ model: ctx.model(), prompt: 'a goal', abortSignal: ctx.signal });
    ctx.emit('take', { text });
  }
}

const MATCH = [
  at(0, 'kick_off'),
  at(100, 'goal', { team: 'home' }),
  at(700, 'card', { colour: 'red' }),
  at(1300, 'card', {}),
  at(1900, 'goal', { team: 'away' }),
  at(2600, 'card', { colour: 'yellow' }),
];

describe('DashboardFeed: what the dev dashboard shows of a run', () => {
  it('shows the crews in run order, every slice closed, the context and its last change, actions with their crew, errors and the disabled crew', async () => {
    const feed = new DashboardFeed({ mode: 'run', title: 'match' });
    const t = await createTestingApp({ crews: [Referee, Pundit, Overlay, Score], observer: feed, interceptors: [feed.interceptor], models: { default: scriptedModel('What a strike.') } });
    const r = await t.run(MATCH);
    const view = feed.view();
    expect(view.crews.map((c) => c.id).sort()).toEqual(['overlay', 'pundit', 'referee', 'score']);
    const crew = (id: string) => view.crews.find((c) => c.id === id)!;
    expect(crew('referee')).toMatchObject({ status: 'disabled', errors: 2, errorStreak: 1, calls: 2, actions: 1, inFlight: 0 });
    expect(crew('score')).toMatchObject({ status: 'idle', calls: 2, actions: 0 });
    expect(crew('overlay')).toMatchObject({ status: 'idle', calls: 2, actions: 2 });
    expect(crew('pundit').inputTokens).toBeGreaterThan(0);
    expect(view.counts).toEqual({ events: 6, actions: r.actions.length, errors: r.errors.length, modelCalls: 2 });

    const [stream] = view.streams;
    expect(stream).toMatchObject({ id: 'm1', events: 6, context: r.context('m1') });
    expect(stream!.lastChange).toMatchObject({ slice: 3, changed: ['score'], deleted: [] });
    expect(stream!.slices.map(({ slice, state, events, changed }) => ({ slice, state, events, changed }))).toEqual([
      { slice: 0, state: 'closed', events: 2, changed: true },
      { slice: 1, state: 'closed', events: 1, changed: false },
      { slice: 2, state: 'closed', events: 1, changed: false },
      { slice: 3, state: 'closed', events: 1, changed: true },
      { slice: 5, state: 'closed', events: 1, changed: false },
    ]);
    expect(stream!.slices.find((s) => s.slice === 2)).toMatchObject({ errors: 2 });

    expect(view.actions.map((a) => [a.kind, a.crew, a.slice])).toEqual(r.actions.map((a) => [a.kind, expect.any(String), expect.any(Number)]));
    expect(view.actions.filter((a) => a.kind === 'overlay').map((a) => a.crew)).toEqual(['overlay', 'overlay']);
    expect(view.errors.map((e) => [e.reason, e.crew, e.slice, e.source])).toEqual([
      ['handler_error', 'referee', 2, 'input[3]'],
      ['disabled', 'referee', 2, 'input[3]'],
    ]);
    expect(view.errors[0]!.message).toContain('malformed card');
    expect(view.modelCalls.map((c) => [c.crew, c.model, c.outcome])).toEqual([
      ['pundit', 'default', 'ok'],
      ['pundit', 'default', 'ok'],
    ]);
  });

  it('gives a page the whole view, then patches that fold into the same view it would get by connecting last', async () => {
    const feed = new DashboardFeed({ mode: 'run', title: 'match', flushMs: 1 });
    let page: DashboardView | undefined;
    let patches = 0;
    feed.subscribe(
      (patch) => {
        patches++;
        page = applyPatch(page!, patch);
      },
      (whole) => (page = whole),
    );
    feed.start();
    const t = await createTestingApp({ crews: [Referee, Pundit, Overlay, Score], observer: feed, interceptors: [feed.interceptor], models: { default: scriptedModel('What a strike.') } });
    await t.run(MATCH);
    feed.close();
    expect(patches).toBeGreaterThan(0);
    expect(page).toEqual(feed.view());
    let late: DashboardView | undefined;
    feed.subscribe(
      () => {},
      (whole) => (late = whole),
    );
    expect(late).toEqual(page);
  });

  it('sends nothing to a page while nothing changed', () => {
    const feed = new DashboardFeed({ mode: 'run', title: 'quiet' });
    const patches: unknown[] = [];
    feed.subscribe(
      (patch) => patches.push(patch),
      () => {},
    );
    feed.flush();
    feed.eventSeen('m1', T0);
    feed.flush();
    feed.flush();
    expect(patches).toHaveLength(1);
  });

  it('sends a burst of more than RECORDS_KEPT actions as its latest ones, which fold into the same view', () => {
    const feed = new DashboardFeed({ mode: 'run', title: 'burst' });
    const action = (i: number) => feed.actionSent({ ts: new Date(T0).toISOString(), kind: 'tick', stream_id: 'm1', payload: { i } }, `m1:0:ticker.onTick:${i}:0`);
    let page: DashboardView | undefined;
    const sizes: number[] = [];
    feed.subscribe(
      (patch) => {
        sizes.push(patch.actions?.length ?? 0);
        page = applyPatch(page!, patch);
      },
      (whole) => (page = whole),
    );
    for (let i = 0; i < 7; i++) action(i);
    feed.flush();
    for (let i = 7; i < 3 * RECORDS_KEPT + 3; i++) action(i);
    feed.flush();
    expect(sizes).toEqual([7, RECORDS_KEPT]);
    expect(page!.actions).toEqual(feed.view().actions);
    expect(page!.actions.at(-1)!.payload).toEqual({ i: 3 * RECORDS_KEPT + 2 });
  });

  it(`keeps the ${STREAMS_KEPT} most recently active streams, and at most 64 crews and runners it only learned of`, () => {
    const feed = new DashboardFeed({ mode: 'viewer', title: 'many' });
    for (let i = 0; i < STREAMS_KEPT + 50; i++) feed.eventSeen(`s${i}`, T0);
    feed.eventSeen('s0', T0 + 1);
    const streams = feed.view().streams.map((stream) => stream.id);
    expect(streams.length).toBe(STREAMS_KEPT);
    expect(streams.at(-1)).toBe('s0');
    expect(streams).not.toContain('s1');
    feed.streamForgotten('s0');
    expect(feed.view().streams.map((stream) => stream.id)).not.toContain('s0');
    for (let i = 0; i < 500; i++) {
      feed.workStarted(`crew${i}`, 's0', T0);
      feed.runnerHeard(`runner /r${i}/`);
    }
    expect([feed.view().crews.length, feed.view().runners.length]).toEqual([64, 64]);
  });

  it('keeps the latest RECORDS_KEPT actions', () => {
    const feed = new DashboardFeed({ mode: 'run', title: 'busy' });
    for (let i = 0; i < RECORDS_KEPT + 20; i++) feed.actionSent({ ts: new Date(T0).toISOString(), kind: 'tick', stream_id: 'm1', payload: { i } }, `m1:0:ticker.onTick:${i}:0`);
    const { actions, counts } = feed.view();
    expect(actions).toHaveLength(RECORDS_KEPT);
    expect(actions[0]!.payload).toEqual({ i: 20 });
    expect(counts.actions).toBe(RECORDS_KEPT + 20);
  });
});

describe('DashboardFeed: a crew status as it changes', () => {
  it('running while its call is in flight; a crew after it in the slice waiting on it; lagging once the slice closed without it', async () => {
    const scoring = gate();
    const thinking = gate();

    @Crew({ id: 'scorer' })
    class Scorer {
      @OnEvent('goal')
      async onGoal(_event: Event, ctx: CrewContext) {
        await scoring.opened;
        ctx.context.set('goals', 1);
      }
    }

    @Crew({ id: 'follower' })
    @DependsOn({ crew: 'scorer', offset: 0 })
    class Follower {
      @OnEvent('goal')
      onGoal(_event: Event, ctx: CrewContext) {
        ctx.emit('seen', { goals: ctx.context.get('goals') ?? 0 });
      }
    }

    @Crew({ id: 'thinker', lag: 2 })
    class Thinker {
      @OnEvent('shot')
      async onShot(_event: Event, ctx: CrewContext) {
        await thinking.opened;
        ctx.emit('thought', {});
      }
    }

    const feed = new DashboardFeed({ mode: 'run', title: 'statuses' });
    const source = new PushSource();
    const app = await createLiveCrewApp({
      crews: [Scorer, Follower, Thinker],
      configFile: false,
      env: {},
      config: { log_level: 'silent' },
      observer: feed,
      interceptors: [feed.interceptor],
      providers: [
        { token: EVENT_SOURCE, useValue: source },
        { token: ACTION_SINK, useValue: new CollectingActionSink() },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
      ],
    });
    feed.describeRun({ sliceMs: app.config.slice_ms, crews: app.crews });
    const status = (id: string) => feed.view().crews.find((c) => c.id === id)!;
    const running = app.run();

    source.push(at(0, 'shot', {}, 'm2'), at(1600, 'tick', {}, 'm2'));
    await until(() => feed.view().streams.find((s) => s.id === 'm2')?.slices[0]?.state === 'closed', 'slice 0 of m2 to close');
    expect(status('thinker')).toMatchObject({ status: 'lagging', inFlight: 1, slicesBehind: 3 });

    source.push(at(0, 'goal'));
    await until(() => status('scorer').inFlight === 1, 'the scorer to start');
    source.push(at(600, 'tick'));
    await until(() => status('follower').status === 'waiting', 'the follower to wait');
    expect(status('scorer')).toMatchObject({ status: 'running', inFlight: 1 });
    expect(status('follower')).toMatchObject({ status: 'waiting', waitingOn: ['scorer'], calls: 0 });

    scoring.open();
    thinking.open();
    await until(() => status('follower').calls === 1, 'the follower to run');
    await source.close();
    await running;
    expect(['scorer', 'follower', 'thinker'].map((id) => status(id).status)).toEqual(['idle', 'idle', 'idle']);
  });
});

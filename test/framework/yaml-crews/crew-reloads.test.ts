import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACTION_SINK,
  createLiveCrewApp,
  Crew,
  DECISION_JOURNAL,
  ERROR_SINK,
  EVENT_SOURCE,
  LOGGER,
  OnEvent,
  type CrewContext,
  type Event,
  type EventSource,
  type LiveCrewAppOptions,
  type LogFields,
  type Logger,
} from '../../../src/index.js';
import { loadCrewModule } from '../../../src/framework/discovery/crew-module.js';
import { CrewReloads } from '../../../src/framework/yaml-crews/crew-reloads.js';
import { CollectingActionSink, CollectingErrorSink, createTestingApp, MemoryDecisionJournal, scriptedModel } from '../../../src/testing.js';
import { PushSource } from '../fixtures/push-source.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const tick = (ms: number, n: number, stream = 'm1') => ({ ts: new Date(T0 + ms).toISOString(), kind: 'tick', stream_id: stream, payload: { n } });
const crewFile = (label: string, extra = '') => `id: labeller\ntriggers: tick\n${extra}outputs:\n  - kind: label\n    payload: { text: "${label} {{ event.payload.n }}" }\n`;

/** A logger that keeps its lines. */
function keepingLogger(lines: string[]): Logger {
  const log = (_fields: LogFields, msg: string) => void lines.push(msg);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

/** What a live app of these tests is fed through and sends to. */
interface Wiring {
  readonly source: EventSource;
  readonly actions: CollectingActionSink;
  readonly journal: MemoryDecisionJournal;
  readonly lines: string[];
}

/** A live-fed app of `crews`, its output, journal and log lines collected. */
function liveApp(options: Pick<LiveCrewAppOptions, 'crews' | 'configFile' | 'reloadable' | 'models'>, { source, actions, journal, lines }: Wiring) {
  return createLiveCrewApp({
    ...options,
    env: {},
    providers: [
      { token: EVENT_SOURCE, useValue: source },
      { token: ACTION_SINK, useValue: actions },
      { token: ERROR_SINK, useValue: new CollectingErrorSink() },
      { token: DECISION_JOURNAL, useValue: journal },
      { token: LOGGER, useValue: keepingLogger(lines) },
    ],
  });
}

describe('hot reload of YAML crews (run --watch)', () => {
  it("takes a changed file from each stream's next slice, journals the point, and a replay repeats it whatever the file says now", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-reload-'));
    const path = join(dir, 'labeller.crew.yaml');
    writeFileSync(path, crewFile('v1'));
    const { crews, yamlCrews } = await loadCrewModule(dir);
    const source = new PushSource();
    const actions = new CollectingActionSink();
    const journal = new MemoryDecisionJournal();
    const lines: string[] = [];
    const app = await liveApp({ crews, configFile: false }, { source, actions, journal, lines });
    const reloads = new CrewReloads(yamlCrews, journal, keepingLogger(lines));
    await reloads.watch(dir);
    const running = app.run();
    source.push(tick(0, 1), tick(600, 2), tick(0, 10, 'm2'));
    await until(() => actions.actions.length === 3);

    writeFileSync(path, crewFile('v2'));
    await until(() => journal.recorded.has('reload:labeller:1'));
    expect(journal.recorded.get('reload:labeller:1')).toEqual({ text: crewFile('v2'), from: { m1: 2, m2: 1 } });

    // A change the schedule is made of, and a file that does not parse, are reported; v2 goes on.
    writeFileSync(path, crewFile('v3', 'lag: 2\n'));
    await until(() => lines.some((line) => line.includes('changed lag, which shape the crew graph and schedule: restart to apply it')));
    writeFileSync(path, 'id: labeller\ntriggers: [tick\n');
    await until(() => lines.some((line) => line.includes('changed but cannot be loaded; the running version goes on')));

    source.push(tick(700, 3), tick(1100, 4), tick(1600, 5), tick(100, 11, 'm2'), tick(600, 12, 'm2'));
    await source.close();
    await running;
    reloads.close();
    const byStream = (stream: string) => actions.actions.filter((a) => a.stream_id === stream).map((a) => (a.payload as { text: string }).text);
    // m1 had run slice 1 when the file changed: slice 1 keeps v1, slice 2 on has v2; m2 had run slice 0.
    expect(byStream('m1')).toEqual(['v1 1', 'v1 2', 'v1 3', 'v2 4', 'v2 5']);
    expect(byStream('m2')).toEqual(['v1 10', 'v1 11', 'v2 12']);
    expect(journal.recorded.get('reload:labeller:0')).toEqual({ text: crewFile('v1'), from: {} });

    // The file now says something else again; the journal decides.
    writeFileSync(path, crewFile('v9'));
    const replayed = (await loadCrewModule(dir)).yamlCrews;
    const replayJournal = new MemoryDecisionJournal(journal.recorded);
    new CrewReloads(replayed, replayJournal, keepingLogger([])).installRecorded();
    const all = [tick(0, 1), tick(600, 2), tick(0, 10, 'm2'), tick(700, 3), tick(1100, 4), tick(1600, 5), tick(100, 11, 'm2'), tick(600, 12, 'm2')];
    const replay = await (await createTestingApp({ crews: replayed.map((crew) => crew.type), providers: [{ token: DECISION_JOURNAL, useValue: replayJournal }] })).run(all);
    expect(replay.actions.map((a) => (a.payload as { text: string }).text).sort()).toEqual([...byStream('m1'), ...byStream('m2')].sort());
  });
});

describe("hot reload of a crew's runtime file", () => {
  @Crew({ id: 'picker' })
  class Picker {
    @OnEvent('tick')
    async on(event: Event<{ n: number }>, ctx: CrewContext) {
      const answer = await ctx.model().doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: String(event.payload.n) }] }] });
      ctx.emit('picked', { text: answer.content.map((part) => (part.type === 'text' ? part.text : '')).join('') });
    }
  }
  const models = () => ({ a: scriptedModel((n) => `a ${n}`), b: scriptedModel((n) => `b ${n}`) });

  const app = (dir: string, source: EventSource, actions: CollectingActionSink, journal: MemoryDecisionJournal, lines: string[]) =>
    liveApp({ crews: [Picker], configFile: join(dir, 'live-config.yaml'), reloadable: true, models: models() }, { source, actions, journal, lines });

  it("takes new reloadable knobs (here: model) from each stream's next slice, journaled; a schedule change waits for a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-reload-knobs-'));
    writeFileSync(join(dir, 'live-config.yaml'), '');
    const runtime = join(dir, 'picker.runtime.yaml');
    writeFileSync(runtime, 'model: a\n');
    const source = new PushSource();
    const actions = new CollectingActionSink();
    const journal = new MemoryDecisionJournal();
    const lines: string[] = [];
    const live = await app(dir, source, actions, journal, lines);
    const reloads = new CrewReloads([], journal, keepingLogger(lines), live.reloadableKnobs);
    await reloads.watch(dir);
    const running = live.run();
    source.push(tick(0, 1), tick(600, 2));
    await until(() => actions.actions.length === 2);

    writeFileSync(runtime, 'model: b\ntimeout_ms: 5000\n');
    await until(() => journal.recorded.has('knobs:picker:1'));
    expect(journal.recorded.get('knobs:picker:1')).toEqual({ knobs: { timeoutMs: 5000, maxErrors: 3, model: 'b' }, from: { m1: 2 } });
    writeFileSync(runtime, 'model: b\ntimeout_ms: 5000\nlag: 2\n');
    await until(() => lines.some((line) => line.includes('picker.runtime.yaml changed lag, which shape the crew graph and schedule: restart to apply it')));

    source.push(tick(700, 3), tick(1100, 4), tick(1600, 5));
    await source.close();
    await running;
    reloads.close();
    const picked = actions.actions.map((a) => (a.payload as { text: string }).text);
    expect(picked).toEqual(['a 1', 'a 2', 'a 3', 'b 4', 'b 5']);

    // A replay takes the same knobs at the same slices, whatever the runtime file says now.
    writeFileSync(runtime, 'model: a\n');
    const replayJournal = new MemoryDecisionJournal(journal.recorded);
    const replayed = new CollectingActionSink();
    const replaySource = new PushSource();
    const replay = await app(dir, replaySource, replayed, replayJournal, []);
    new CrewReloads([], replayJournal, keepingLogger([]), replay.reloadableKnobs).installRecorded();
    const replaying = replay.run();
    replaySource.push(tick(0, 1), tick(600, 2), tick(700, 3), tick(1100, 4), tick(1600, 5));
    await replaySource.close();
    await replaying;
    expect(replayed.actions).toEqual(actions.actions);
  });
});

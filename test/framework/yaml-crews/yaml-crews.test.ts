import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCrewGraph, ConfigError, createLiveCrewApp, Crew, DECISION_JOURNAL, OnEvent, type CrewContext, type Event } from '../../../src/index.js';
import { loadCrewModule } from '../../../src/framework/discovery/crew-module.js';
import { resolveCrews } from '../../../src/framework/assembly/process-assembly.js';
import { createTestingApp, MemoryDecisionJournal, scriptedModel } from '../../../src/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');
const at = (ms: number, kind: string, payload: object = {}, stream = 'm1') => ({ ts: new Date(T0 + ms).toISOString(), kind, stream_id: stream, payload });

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-yaml-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const COMMENTATOR = `
id: commentator
triggers: [goal_scored]
needs:
  - crew: score_keeper
    offset: -1
lag: 1
timeout_ms: 5000
model: pundit
max_tokens_per_slice: 1000
system_prompt: You are a football commentator. Be brief.
user_template: |
  Score {{ ctx.score.home | default: 0 }}-{{ ctx.score.away | default: 0 }}. Goal by {{ event.payload.player }} in slice {{ slice }} of {{ stream_id }}.
outputs:
  - kind: commentary
    payload:
      line: "{{ outputs.text }}"
      player: "{{ event.payload.player }}"
      score: "{{ ctx.score | default: nil }}"
    ttl_ms: 10000
patch:
  last_line: "{{ outputs.text }}"
`;

const SCORE_KEEPER = `
id: score_keeper
triggers: goal_scored
outputs:
  - kind: score_seen
    payload: { team: "{{ event.payload.team }}" }
patch:
  score: "{{ event.payload.score }}"
`;

const goal = (ms: number, player: string, home: number) => at(ms, 'goal_scored', { player, team: 'home', score: { home, away: 0 } });

describe('YAML crews (<id>.crew.yaml, DESIGN §9)', () => {
  it('render the user template over the call view, ask the model, emit outputs and write patch, typed where a template is one expression', async () => {
    const dir = folder({ 'commentator.crew.yaml': COMMENTATOR, 'score_keeper.crew.yaml': SCORE_KEEPER });
    const { crews } = await loadCrewModule(dir);
    const pundit = scriptedModel((prompt) => `Heard: ${prompt.trim()}`);
    const t = await createTestingApp({ crews, models: { pundit } });
    const r = await t.run([goal(0, 'Kane', 1), goal(600, 'Saka', 2)]);
    expect(r.errors).toEqual([]);
    expect(pundit.prompts).toEqual(['Score 0-0. Goal by Kane in slice 0 of m1.\n', 'Score 1-0. Goal by Saka in slice 1 of m1.\n']);
    const commentary = r.actions.filter((a) => a.kind === 'commentary');
    expect(commentary.map((a) => a.payload)).toEqual([
      { line: 'Heard: Score 0-0. Goal by Kane in slice 0 of m1.', player: 'Kane', score: null },
      { line: 'Heard: Score 1-0. Goal by Saka in slice 1 of m1.', player: 'Saka', score: { home: 1, away: 0 } },
    ]);
    expect(commentary[0]!.ttl_ms).toBe(10000);
    expect(r.actions.filter((a) => a.kind === 'score_seen').map((a) => a.payload)).toEqual([{ team: 'home' }, { team: 'home' }]);
    expect(r.context('m1')).toEqual({ score: { home: 2, away: 0 }, last_line: 'Heard: Score 1-0. Goal by Saka in slice 1 of m1.' });
  });

  it('are crews like any other: their knobs, needs and lag reach the graph, and a TypeScript crew can depend on them', async () => {
    const dir = folder({ 'commentator.crew.yaml': COMMENTATOR, 'score_keeper.crew.yaml': SCORE_KEEPER });
    @Crew({ id: 'echo' })
    class Echo {
      @OnEvent('goal_scored') on(_event: Event, ctx: CrewContext) {
        ctx.emit('echo', { last: ctx.context.get('last_line') ?? null });
      }
    }
    const { crews } = await loadCrewModule(dir);
    const graph = buildCrewGraph([...crews, Echo]);
    expect(graph.crews.map((c) => c.id)).toEqual(['commentator', 'echo', 'score_keeper']);
    expect(graph.crews[0]).toMatchObject({ lag: 1, timeoutMs: 5000, model: 'pundit', maxTokensPerSlice: 1000, dependencies: [{ type: 'crew', crew: 'score_keeper', offset: -1 }] });
    expect(graph.crews[0]!.className).toBe('commentator.crew.yaml');
  });

  it('replay exactly from the journal, with no model call', async () => {
    const dir = folder({ 'commentator.crew.yaml': COMMENTATOR, 'score_keeper.crew.yaml': SCORE_KEEPER });
    const events = [goal(0, 'Kane', 1), goal(600, 'Saka', 2), goal(1300, 'Rice', 3)];
    const journal = new MemoryDecisionJournal();
    const live = await (
      await createTestingApp({ crews: (await loadCrewModule(dir)).crews, models: { pundit: scriptedModel((p) => p.length.toString()) }, providers: [{ token: DECISION_JOURNAL, useValue: journal }] })
    ).run(events);
    const silent = scriptedModel('never');
    const replay = await (
      await createTestingApp({ crews: (await loadCrewModule(dir)).crews, models: { pundit: silent }, providers: [{ token: DECISION_JOURNAL, useValue: new MemoryDecisionJournal(journal.recorded) }] })
    ).run(events);
    expect(silent.prompts).toEqual([]);
    expect(JSON.stringify(replay.actions)).toBe(JSON.stringify(live.actions));
    expect(replay.context('m1')).toEqual(live.context('m1'));
  });

  it('a template naming a variable that is not there fails the call, naming the template and the variable; an if or a default may look at one', async () => {
    const dir = folder({
      'typo.crew.yaml': `id: typo\ntriggers: signup\noutputs:\n  - kind: welcome\n    payload:\n      user: "{{ event.payload.usr }}"\n`,
      'careful.crew.yaml': `id: careful\ntriggers: signup\noutputs:\n  - kind: welcome\n    payload:\n      user: "{{ event.payload.usr | default: 'guest' }}"\n      vip: "{% if event.payload.vip %}yes{% else %}no{% endif %}"\n`,
    });
    const r = await (await createTestingApp({ crews: (await loadCrewModule(dir)).crews })).run([at(0, 'signup', { user: 'ada' })]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ user: 'guest', vip: 'no' }]);
    expect(r.errorsOf('handler_error').map((e) => e.payload.message)).toEqual([
      expect.stringMatching(
        /^typo\.handle threw: template outputs\.0\.payload\.user failed: undefined variable: event\.payload\.usr, line:1, col:\d+ \(where it may be missing, give it a default: `\| default: …`, or `\{% if … %\}` around it\)$/,
      ),
    ]);
  });

  it('a model answer in JSON is there as outputs.json', async () => {
    const dir = folder({
      'rater.crew.yaml': `id: rater\ntriggers: '*'\nuser_template: rate {{ event.kind }}\noutputs:\n  - kind: rating\n    payload:\n      stars: "{{ outputs.json.stars }}"\n      said: "{{ outputs.json.words | upcase }}"\n`,
    });
    const r = await (await createTestingApp({ crews: (await loadCrewModule(dir)).crews, models: { m: scriptedModel('```json\n{"stars": 4, "words": "solid"}\n```') } })).run([at(0, 'any')]);
    expect(r.actions.map((a) => a.payload)).toEqual([{ stars: 4, said: 'SOLID' }]);
  });

  it('templates cannot run code or read files: no include, no constructor, unknown filters refused at load', async () => {
    const dir = folder({ 'probe.crew.yaml': `id: probe\ntriggers: x\noutputs:\n  - kind: probe\n    payload:\n      proto: "{{ event.constructor }}|{{ event.__proto__ }}|{{ ctx.toString }}"\n` });
    const r = await (await createTestingApp({ crews: (await loadCrewModule(dir)).crews })).run([at(0, 'x')]);
    // A template sees its values' own properties only: the constructor is a variable naming nothing.
    expect(r.actions).toEqual([]);
    expect(r.errorsOf('handler_error')[0]!.payload.message).toMatch(/^probe\.handle threw: template outputs\.0\.payload\.proto failed: undefined variable: event\.constructor/);
    for (const tag of ["include '/etc/passwd'", "render 'x'", "layout 'x'"]) {
      const including = folder({ 'inc.crew.yaml': `id: inc\ntriggers: x\noutputs:\n  - kind: probe\n    payload: { text: "{% ${tag} %}" }\n` });
      await expect(loadCrewModule(including)).rejects.toThrow(
        /inc\.crew\.yaml:5 outputs\.0\.payload\.text: template does not parse: \{% (include|render|layout) %\} reads another template from a file/,
      );
    }
  });

  it("bounds a call's templates together: leaves that each stay within a leaf's old bound fail the call as a whole, and the next call runs", async () => {
    const leaves = Array.from({ length: 6 }, (_, i) => `      n${i}: "{{ (1..9999999) | size }}"`).join('\n');
    const dir = folder({
      'greedy.crew.yaml': `id: greedy\ntriggers: [x, y]\nmax_errors: 10\noutputs:\n  - kind: sizes\n    payload:\n${leaves}\n  - kind: small\n    payload: { n: "{{ (1..3) | size }}" }\n`,
    });
    const r = await (await createTestingApp({ crews: (await loadCrewModule(dir)).crews })).run([at(0, 'x'), at(1, 'y')]);
    expect(r.actions).toEqual([]);
    expect(r.errorsOf('handler_error').map((e) => e.payload.message)).toEqual([
      expect.stringMatching(/greedy\.handle threw: template outputs\.0\.payload\.n\d failed: the call's templates made more than 1,000,000 items and characters together/),
      expect.stringMatching(/greedy\.handle threw: template outputs\.0\.payload\.n\d failed: the call's templates made more than 1,000,000 items and characters together/),
    ]);
    const modest = folder({
      'modest.crew.yaml': `id: modest\ntriggers: x\noutputs:\n  - kind: sizes\n    payload:\n${Array.from({ length: 6 }, (_, i) => `      n${i}: "{{ (1..100000) | size }}"`).join('\n')}\n`,
    });
    const fine = await (await createTestingApp({ crews: (await loadCrewModule(modest)).crews })).run([at(0, 'x')]);
    expect(fine.actions.map((a) => a.payload)).toEqual([{ n0: 100000, n1: 100000, n2: 100000, n3: 100000, n4: 100000, n5: 100000 }]);
  });
});

describe('YAML crew files that are not valid', () => {
  const refused = async (text: string, name = 'bad.crew.yaml') => {
    const dir = folder({ [name]: text });
    const error = await loadCrewModule(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.replaceAll(dir, '<dir>');
  };

  it('name file, line and key of each problem', async () => {
    expect(await refused('id: bad\ntriggers: [goal]\nlag: -1\nuser_template: hi\noutputs:\n  - kind: __mine\n    payload: {}\nretries: 2\n')).toBe(
      [
        'invalid YAML crew <dir>/bad.crew.yaml:',
        '  <dir>/bad.crew.yaml:3 lag: must be >= 0 (got -1)',
        '  <dir>/bad.crew.yaml:6 outputs[0].kind: kind "__mine" is reserved (kinds starting with "__" are live-crew\'s own) (got "__mine")',
        '  <dir>/bad.crew.yaml:8 retries: unknown key (known keys: id, triggers, needs, max_errors, wait_policy, slice_stride, backlog_policy, timeout_ms, lag, concurrency, max_tokens_per_slice, max_calls_per_minute, model, system_prompt, user_template, outputs, patch, tools)',
      ].join('\n'),
    );
  });

  it('a file not named after its crew, and a misspelled key, with the nearest known one', async () => {
    expect(await refused('id: other_name\ntriggers: x\npatch: { a: 1 }\n', 'y3.crew.yaml')).toBe(
      'invalid YAML crew <dir>/y3.crew.yaml:\n  <dir>/y3.crew.yaml:1 id: crew other_name is in y3.crew.yaml: a crew file is named after its crew (other_name.crew.yaml), so rename the file or change the id',
    );
    expect(await refused('id: bad\ntriggers: x\npatch: { a: 1 }\ntimout_ms: 10\n')).toContain('bad.crew.yaml:4 timout_ms: unknown key (did you mean timeout_ms?)');
  });

  it('a template that does not parse, with where it is', async () => {
    expect(await refused('id: bad\ntriggers: x\nuser_template: hi\npatch:\n  mood: "{{ outputs.text | shout }}"\n')).toBe(
      'invalid YAML crew <dir>/bad.crew.yaml:\n  <dir>/bad.crew.yaml:5 patch.mood: template does not parse: undefined filter: shout, line:1, col:1',
    );
    expect(await refused('id: bad\ntriggers: x\nuser_template: |\n  line one\n  {% if x %}\noutputs: []\n')).toContain(
      'bad.crew.yaml:3 user_template: template does not parse: tag {% if x %} not closed, line:2',
    );
  });

  it('unknown tools, a crew that does nothing, a system prompt without a user template, YAML that does not parse', async () => {
    expect(await refused('id: bad\ntriggers: x\ntools: [web_search]\npatch: { a: 1 }\n')).toContain('bad.crew.yaml:3 tools[0]: unknown tool "web_search" (known tools: vector_search, fact_insert)');
    expect(await refused('id: bad\ntriggers: x\n')).toContain('bad.crew.yaml:1 (root): does nothing: give outputs (actions to emit) or patch (context to write), or both');
    expect(await refused('id: bad\ntriggers: x\nsystem_prompt: hi\npatch: { a: 1 }\n')).toContain('bad.crew.yaml:3 system_prompt: needs a user_template');
    expect(await refused('id: bad\ntriggers: [x\n')).toMatch(/bad\.crew\.yaml is not valid YAML: line 3: Flow sequence/);
    expect(await refused('id: bad\ntriggers: x\noutputs:\n  - kind: k\n    payload:\n      __proto__: { a: 1 }\n')).toMatch(
      /bad\.crew\.yaml is not valid YAML: line 6: key "__proto__" is not allowed/,
    );
  });
});

describe("runtime files in the spec's own keys", () => {
  @Crew({ id: 'score_tracker' })
  class ScoreTracker {
    @OnEvent('goal') on(_event: Event, ctx: CrewContext) {
      ctx.emit('seen');
    }
  }
  @Crew({ id: 'stats' })
  class Stats {
    @OnEvent('goal') on() {}
  }

  it('crew, triggers, needs, wait_policy, slice_stride and timeout_ms validate and apply', async () => {
    const dir = folder({
      'live-config.yaml': 'slice_ms: 500\n',
      'score_tracker.runtime.yaml': 'crew: score_tracker\ntriggers: [goal, penalty]\nneeds:\n  - crew: stats\n    offset: -1\nwait_policy: any\nslice_stride: 2\ntimeout_ms: 250\n',
    });
    const { graph } = resolveCrews({ crews: [ScoreTracker, Stats], configFile: join(dir, 'live-config.yaml'), env: {} });
    expect(graph.crews.find((c) => c.id === 'score_tracker')).toMatchObject({
      waitPolicy: 'any',
      sliceStride: 2,
      timeoutMs: 250,
      dependencies: [{ type: 'crew', crew: 'stats', offset: -1 }],
      handlers: [{ method: 'on', trigger: { any: false, kinds: ['goal', 'penalty'] } }],
    });
  });

  it('refuses a file naming another crew, a knob spelled both ways, and a bad need, with the line', async () => {
    const start = (runtime: string) => {
      const dir = folder({ 'live-config.yaml': '', 'score_tracker.runtime.yaml': runtime });
      return createLiveCrewApp({ crews: [ScoreTracker, Stats], configFile: join(dir, 'live-config.yaml'), env: {} }).then(
        () => 'started',
        (e: Error) => e.message.replace(dir, '<dir>'),
      );
    };
    expect(await start('crew: stats\n')).toContain('crew: names crew "stats"; a runtime file is <crew_id>.runtime.yaml and names its own crew');
    expect(await start('timeout_ms: 100\ntimeoutMs: 200\n')).toContain('timeout_ms and timeoutMs set the same knob: keep one');
    expect(await start('needs:\n  - crew: stats\n    offset: 2\n')).toContain('needs[0].offset (line 3): must be 0 or negative');
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// Examples run from their built output and import `live-crew` by name, as an application does.
const ROOT = resolve(import.meta.dirname, '../..');

function node(args: string[]) {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('examples', () => {
  it("hello-world prints the pinned actions through `npm start`'s command line", () => {
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start']!;
    const r = node(start.replace(/^node /, '').split(' '));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'examples/hello-world/expected-actions.jsonl'), 'utf8'));
  });

  it('examples import the package by name, never the sources', () => {
    for (const file of ['examples/hello-world/crews.ts', 'examples/quickstart/quickstart.ts']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(text).toMatch(/from 'live-crew'/);
      expect(text).not.toMatch(/from '\.\.?\//);
    }
  });

  it('the README shows the quickstart exactly as the file that runs', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${readFileSync(join(ROOT, 'examples/quickstart/quickstart.ts'), 'utf8')}\`\`\``);
  });

  it('the quickstart counts two goals of one slice and prints the final score', () => {
    const r = node(['examples/quickstart/dist/quickstart.js']);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { payload: unknown }).payload),
    ).toEqual([
      { home: 1, away: 0 },
      { home: 2, away: 0 },
      { home: 2, away: 1 },
    ]);
    expect(r.stderr).toMatch(/events: 3[\s\S]*\{ score: \{ home: 2, away: 1 \} \}/);
  });
});

describe('match-day example', () => {
  // Relative to the repository root, as the README's command line has them (errors name the input path).
  const CREWS = 'examples/match-day/dist/crews.js';
  const EVENTS = 'examples/match-day/events.jsonl';

  it('the generator writes the committed events', () => {
    const r = node(['examples/match-day/dist/generate-events.js']);
    expect(r.stdout).toBe(readFileSync(join(ROOT, EVENTS), 'utf8'));
  });

  it('runs with `npx live-crew run` as its README says, giving the pinned actions and errors', () => {
    const r = node([join(ROOT, 'dist/cli/main.js'), 'run', EVENTS, '--crews', CREWS]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'examples/match-day/expected-actions.jsonl'), 'utf8'));
    expect(r.stderr).toBe(readFileSync(join(ROOT, 'examples/match-day/expected-errors.jsonl'), 'utf8'));
  });

  it('with the YAML colour commentator and its scripted model, as its README runs it: the same actions, plus one colour line per goal and card', () => {
    const r = node([join(ROOT, 'dist/cli/main.js'), 'run', EVENTS, '--crews', CREWS, '--crews', 'examples/match-day/crews', '--config', 'examples/match-day/live-config.yaml']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((line) => line !== '');
    const colour = lines.filter((line) => line.includes('"kind":"colour"'));
    expect(`${colour.join('\n')}\n`).toBe(readFileSync(join(ROOT, 'examples/match-day/expected-colour.jsonl'), 'utf8'));
    expect(`${lines.filter((line) => !colour.includes(line)).join('\n')}\n`).toBe(readFileSync(join(ROOT, 'examples/match-day/expected-actions.jsonl'), 'utf8'));
    expect(r.stderr).toBe(readFileSync(join(ROOT, 'examples/match-day/expected-errors.jsonl'), 'utf8'));
  });

  it('the clip finder indexes every moment in embedded pgvector and, on each goal, emits the 3 most similar past moments; its replay is byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-clips-'));
    const args = [join(ROOT, 'dist/cli/main.js'), 'run', EVENTS, '--crews', 'examples/match-day/dist/clips.js', '--config', 'examples/match-day/clips-config.yaml'];
    const live = node([...args, '--journal', join(dir, 'journal.jsonl')]);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toBe(readFileSync(join(ROOT, 'examples/match-day/expected-clips.jsonl'), 'utf8'));
    const actions = live.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ts: string; payload: { goal: string; clips: Array<{ moment: string; at: string }> } });
    expect(actions.map((action) => action.payload.clips.length)).toEqual([3, 3, 3, 3, 3]);
    // Only moments before the goal's own slice are found.
    for (const { ts, payload } of actions) for (const found of payload.clips) expect(Date.parse(found.at)).toBeLessThan(Date.parse(ts));
    const replay = node([...args, '--replay', join(dir, 'journal.jsonl')]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toBe(live.stdout);
  });

  it("a paced live replay gives the batch run's actions, each crew's in the same order (live output goes out as calls end)", () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'run', EVENTS, '--crews', CREWS, '--pace', '4000'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LIVE_CREW_LATENESS_MS: '60000' },
    });
    expect(result.status).toBe(0);
    const byKind = (text: string) => {
      const kinds = new Map<string, string[]>();
      for (const line of text.trim().split('\n')) {
        const kind = (JSON.parse(line) as { kind: string }).kind;
        kinds.set(kind, [...(kinds.get(kind) ?? []), line]);
      }
      return kinds;
    };
    expect(byKind(result.stdout)).toEqual(byKind(readFileSync(join(ROOT, 'examples/match-day/expected-actions.jsonl'), 'utf8')));
  });

  it("the pundit's 1-2 s model calls, in a worker, move no other crew's action: each goal's overlay is out at once", async () => {
    const { ACTION_SINK, createLiveCrewApp, ERROR_SINK, EVENT_SOURCE } = await import('../../dist/index.js');
    const { CollectingErrorSink } = await import('../../dist/testing.js');
    const { crews } = (await import(pathToFileURL(join(ROOT, CREWS)).href)) as { crews: import('../../dist/index.js').CrewClass[] };
    const { PushSource } = await import('../framework/fixtures/push-source.js');
    const arrived: Array<{ kind: string; at: number }> = [];
    const source = new PushSource();
    const app = await createLiveCrewApp({
      crews,
      crewsModule: join(ROOT, CREWS),
      configFile: false,
      env: {},
      config: { mode: 'live', log_level: 'silent' },
      providers: [
        { token: EVENT_SOURCE, useValue: source },
        {
          token: ACTION_SINK,
          useValue: {
            write: (actions: readonly { action: { kind: string } }[]) => void arrived.push(...actions.map(({ action }) => ({ kind: action.kind, at: Date.now() }))),
            close: async () => undefined,
          },
        },
        { token: ERROR_SINK, useValue: new CollectingErrorSink() },
      ],
    });
    const previous = process.env['MATCH_DAY_PUNDIT_MS'];
    delete process.env['MATCH_DAY_PUNDIT_MS'];
    try {
      const running = app.run();
      const goal = (player: string) => ({ ts: new Date().toISOString(), kind: 'goal', stream_id: 'match_42', payload: { team: 'home', player, minute: 10 } });
      source.push(goal('Moreau'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      source.push(goal('Okafor'));
      while (arrived.filter((a) => a.kind === 'pundit').length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      await app.stop();
      await running;
    } finally {
      process.env['MATCH_DAY_PUNDIT_MS'] = previous;
    }
    const overlays = arrived.filter((a) => a.kind === 'overlay');
    const takes = arrived.filter((a) => a.kind === 'pundit');
    expect(overlays).toHaveLength(2);
    // Both overlays were out before the first take: the second goal did not wait for the pundit.
    expect(Math.max(...overlays.map((a) => a.at))).toBeLessThan(Math.min(...takes.map((a) => a.at)));
  });
});

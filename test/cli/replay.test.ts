import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const EVENTS = 'examples/match-day/events.jsonl';
const CREWS = 'examples/match-day/dist/crews.js';
const CHANGED = 'test/fixtures/changed-match-day.js';

function cli(args: string[]) {
  // The pundit's simulated model time changes no output (match-day's README): skipped here.
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MATCH_DAY_PUNDIT_MS: '0' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** match-day's pinned recording, copied where a test may rewrite it. */
function recording(): { actions: string; errors: string } {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-replay-'));
  const actions = join(dir, 'actions.jsonl');
  const errors = join(dir, 'errors.jsonl');
  copyFileSync(join(ROOT, 'examples/match-day/expected-actions.jsonl'), actions);
  copyFileSync(join(ROOT, 'examples/match-day/expected-errors.jsonl'), errors);
  return { actions, errors };
}

describe('live-crew replay: the replay harness for CI (DESIGN §5)', () => {
  it('finds no divergence when the crews give the recorded output, and exits 0', () => {
    const { actions, errors } = recording();
    const r = cli(['replay', EVENTS, '--crews', CREWS, '--expected', actions, '--expected-errors', errors]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('replay: no divergence (36 recorded actions, 36 now; 1 recorded errors, 1 now)\n');
    expect(r.code).toBe(0);
  });

  it('prints each divergence of a changed crew (crew, slice, event, expected against got, the first differing field), a summary, and exits 1', () => {
    const { actions, errors } = recording();
    const r = cli(['replay', EVENTS, '--crews', CHANGED, '--expected', actions, '--expected-errors', errors]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain(
      'changed: action overlay at 2024-05-18T15:11:32.417Z on match_42 (crew graphics.onGoal, slice 1384, event events.jsonl:610): payload.player: expected "Okafor", got "OKAFOR"',
    );
    expect(lines).toContain('missing: action overlay at 2024-05-18T15:09:13.608Z on match_42: recorded, not emitted now: payload {"template":"goal","team":"home","player":"Moreau","minute":10}');
    expect(lines.at(-1)).toBe('replay: 5 divergences: 4 changed, 1 missing, 0 extra (36 recorded actions, 35 now; 1 recorded errors, 1 now)');
    // Every other crew's actions are matched: only graphics diverges.
    expect(lines.filter((line) => line.startsWith('changed')).every((line) => line.includes('crew graphics.onGoal'))).toBe(true);
  });

  it("--update rewrites the recording with the crews' output, after which it replays clean", () => {
    const { actions, errors } = recording();
    const updated = cli(['replay', EVENTS, '--crews', CHANGED, '--expected', actions, '--expected-errors', errors, '--update']);
    expect(updated.code).toBe(0);
    expect(updated.stdout).toBe(`updated ${actions} (35 actions) and ${errors} (1 errors)\n`);
    expect(readFileSync(actions, 'utf8')).toContain('"player":"OKAFOR"');
    expect(cli(['replay', EVENTS, '--crews', CHANGED, '--expected', actions, '--expected-errors', errors]).code).toBe(0);
  });

  it("replays a model crew's answers from its journal, whatever the model would say now; a recording it cannot read is named with its line", () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-replay-'));
    const crews = ['--crews', CREWS, '--crews', 'examples/match-day/crews'];
    expect(cli(['run', EVENTS, ...crews, '--config', 'examples/match-day/live-config.yaml', '--journal', join(dir, 'journal.jsonl'), '--out', join(dir, 'actions.jsonl')]).code).toBe(0);
    // The model now answers otherwise: only the journal can give the recorded lines.
    writeFileSync(join(dir, 'live-config.yaml'), 'models:\n  commentator:\n    provider: scripted\n    replies:\n      - text: Something else entirely.\n');
    const replayed = cli(['replay', EVENTS, ...crews, '--config', join(dir, 'live-config.yaml'), '--journal', join(dir, 'journal.jsonl'), '--expected', join(dir, 'actions.jsonl')]);
    expect(replayed.stdout).toBe('replay: no divergence (57 recorded actions, 57 now)\n');
    const unjournaled = cli(['replay', EVENTS, ...crews, '--config', join(dir, 'live-config.yaml'), '--expected', join(dir, 'actions.jsonl')]);
    expect(unjournaled.code).toBe(1);
    expect(unjournaled.stdout).toContain('changed: action colour at');
    writeFileSync(join(dir, 'broken.jsonl'), '{"ts":"2024-05-18T15:00:00.000Z"}\n{"ts": \n');
    const broken = cli(['replay', EVENTS, '--crews', CREWS, '--expected', join(dir, 'broken.jsonl')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`${join(dir, 'broken.jsonl')}:2: not a JSON record`);
  });

  it('records the whole journal during a replay: replaying that recording repeats the run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-replay-'));
    const crews = ['--crews', CREWS, '--crews', 'examples/match-day/crews', '--config', 'examples/match-day/live-config.yaml'];
    const [first, second, out] = [join(dir, 'first.jsonl'), join(dir, 'second.jsonl'), join(dir, 'actions.jsonl')];
    expect(cli(['run', EVENTS, ...crews, '--journal', first, '--out', out]).code).toBe(0);
    expect(cli(['run', EVENTS, ...crews, '--replay', first, '--journal', second, '--out', join(dir, 'again.jsonl')]).code).toBe(0);
    const decisions = (path: string) => new Set(readFileSync(path, 'utf8').trim().split('\n'));
    expect(decisions(first).size).toBeGreaterThan(10);
    expect(decisions(second)).toEqual(decisions(first));
    expect(cli(['replay', EVENTS, ...crews, '--journal', second, '--expected', out]).stdout).toBe('replay: no divergence (57 recorded actions, 57 now)\n');
  });

  it('--update with --replay-missing live rewrites the journal with the answers it asked for: the next replay is clean', () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-replay-'));
    const crews = ['--crews', CREWS, '--crews', 'examples/match-day/crews'];
    const [journal, out] = [join(dir, 'journal.jsonl'), join(dir, 'actions.jsonl')];
    expect(cli(['run', EVENTS, ...crews, '--config', 'examples/match-day/live-config.yaml', '--journal', journal, '--out', out]).code).toBe(0);
    // The commentator's prompt changes: every recorded answer is of another request now.
    const changed = join(dir, 'crews');
    mkdirSync(changed);
    writeFileSync(
      join(changed, 'colour_commentator.crew.yaml'),
      readFileSync(join(ROOT, 'examples/match-day/crews/colour_commentator.crew.yaml'), 'utf8').replace('user_template: |', 'user_template: |\n  Briefly:'),
    );
    const now = ['--crews', CREWS, '--crews', changed, '--config', 'examples/match-day/live-config.yaml'];
    expect(cli(['replay', EVENTS, ...now, '--journal', journal, '--expected', out]).code).toBe(1);
    const updated = cli(['replay', EVENTS, ...now, '--journal', journal, '--expected', out, '--replay-missing', 'live', '--update']);
    expect(updated.stdout).toBe(`updated ${out} (57 actions) and ${journal} (the journal)\n`);
    expect(readdirSync(dir)).not.toContain(expect.stringMatching(/\.new$/));
    expect(cli(['replay', EVENTS, ...now, '--journal', journal, '--expected', out]).stdout).toBe('replay: no divergence (57 recorded actions, 57 now)\n');
  });

  it('replays a vector-search crew from its journal into a store of its own: the recorded hits, not a search', () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-replay-'));
    const clips = ['--crews', 'examples/match-day/dist/clips.js', '--config', 'examples/match-day/clips-config.yaml'];
    expect(cli(['run', EVENTS, ...clips, '--journal', join(dir, 'journal.jsonl'), '--out', join(dir, 'clips.jsonl')]).code).toBe(0);
    const replayed = cli(['replay', EVENTS, ...clips, '--journal', join(dir, 'journal.jsonl'), '--expected', join(dir, 'clips.jsonl')]);
    expect(replayed.stdout).toBe('replay: no divergence (5 recorded actions, 5 now)\n');
    expect(replayed.code).toBe(0);
  });
});

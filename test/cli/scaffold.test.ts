import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function run(command: string, args: readonly string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const cli = (args: readonly string[], cwd = ROOT) => run(process.execPath, [CLI, ...args], cwd);

describe('live-crew new and generate crew', { timeout: 240_000 }, () => {
  let tarball: string;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-pack-'));
    // The tree is built already (pretest); prepack would rebuild dist under the other suites' feet.
    const packed = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
    expect(packed.code, packed.stderr).toBe(0);
    tarball = join(dir, readdirSync(dir).find((file) => file.endsWith('.tgz'))!);
  });

  it('scaffolds an app whose tests pass against this package (packed, installed from the tarball), then adds a crew and its test', () => {
    const app = join(mkdtempSync(join(tmpdir(), 'live-crew-new-')), 'my-app');
    const created = cli(['new', app, '--live-crew', `file:${tarball}`]);
    expect(created.code, created.stderr).toBe(0);
    expect(readdirSync(app).sort()).toEqual(['README.md', 'crews', 'events.jsonl', 'live-config.yaml', 'package.json', 'src', 'test', 'tsconfig.json']);
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))).toMatchObject({ name: 'my-app', dependencies: { 'live-crew': `file:${tarball}` } });

    // live-crew comes from the tarball; its dependencies and the dev tools from npm's cache first.
    const installed = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
    expect(installed.code, installed.stderr).toBe(0);
    const tested = run('npm', ['test'], app);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/1 passed/);
    const started = run('npm', ['start', '--silent'], app);
    expect(started.code, started.stderr).toBe(0);
    const actions = started.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; payload: { text: string } });
    expect(actions.filter((a) => a.kind !== 'cheer').map((a) => a.payload.text)).toEqual(['Welcome, Ada!', 'Welcome, Lin!', 'Welcome, Sam!']);
    // The YAML crew beside the TypeScript one.
    expect(actions.filter((a) => a.kind === 'cheer').map((a) => a.payload.text)).toEqual(['Everyone, say hi to Ada!', 'Everyone, say hi to Lin!', 'Everyone, say hi to Sam!']);

    const generated = cli(['generate', 'crew', 'referee_watch'], app);
    expect(generated.code, generated.stderr).toBe(0);
    expect(readFileSync(join(app, 'src/crews.ts'), 'utf8')).toMatch(/export \* from '\.\/referee-watch\.js';\n$/);
    // Another spelling of the same crew would be a duplicate export: refused before it breaks the build.
    expect(cli(['g', 'crew', 'RefereeWatch'], app)).toMatchObject({ code: 1, stderr: expect.stringMatching(/src\/referee-watch\.ts exists already/) });
    const retested = run('npm', ['test'], app);
    expect(retested.code, retested.stdout + retested.stderr).toBe(0);
    expect(retested.stdout).toMatch(/Test Files +2 passed/);
  });

  it('refuses a folder that is not empty, a crew name that is no id, and a crew that exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-new-'));
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    expect(cli(['new', dir])).toMatchObject({ code: 1, stderr: expect.stringMatching(/exists and is not empty/) });
    expect(cli(['generate', 'crew', '9lives'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/"9lives" is not a crew id/) });
    expect(cli(['generate', 'crew', 'watch'], dir).code).toBe(0);
    expect(cli(['generate', 'crew', 'watch'], dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/src\/watch\.ts exists already/) });
    const dry = cli(['g', 'crew', 'LineJudge', '--dry-run'], dir);
    expect(dry).toMatchObject({ code: 0, stdout: '  would create src/line-judge.ts\n  would create test/line-judge.test.ts\n' });
    expect(readdirSync(join(dir, 'src')).sort()).toEqual(['watch.ts']);
  });
});

describe('live-crew validate and graph', () => {
  const MATCH_DAY = 'examples/match-day/dist/crews.js';

  it('validate: ok for a sound app; every problem with its location otherwise, exit 1', () => {
    expect(cli(['validate', '--crews', MATCH_DAY])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: 6 crews \(commentator, graphics, pundit, referee_watch, score_tracker, stats\)/) });
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-validate-'));
    writeFileSync(join(dir, 'live-config.yaml'), 'slice_ms: -5\nsilce: 3\n');
    writeFileSync(join(dir, 'stats.runtime.yaml'), 'maxErrors: lots\n');
    const r = cli(['validate', '--crews', MATCH_DAY, '--config', join(dir, 'live-config.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/live-crew validate: 2 problems/);
    expect(r.stderr).toMatch(/live-config\.yaml:\n {4}slice_ms \(line 1\): must be > 0/);
    expect(r.stderr).toMatch(/silce/);
    expect(r.stderr).toMatch(/stats\.runtime\.yaml[\s\S]*maxErrors/);
  });

  it('validate: warns about a dependency that waits inside a lagging crew\'s lag, and still passes', () => {
    const r = cli(['validate', '--crews', 'test/cli/fixtures/lagging-crews.js']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 3 crews/);
    expect(r.stderr).toBe(
      "warning: crew eager depends on model at offset -1, inside model's lag of 2: each slice of eager waits until model has finished its slice n - 1, so eager is as slow as model; declare offset -3 or lower to use its merged output without waiting\n",
    );
  });

  it('graph: crews in run order with their dependencies and offsets, as text, mermaid or dot', () => {
    expect(cli(['graph', '--crews', MATCH_DAY]).stdout).toBe('1. commentator <- crew score_tracker (offset -1)\n2. graphics\n3. pundit (lag 4)\n4. referee_watch\n5. score_tracker\n6. stats\n');
    const mermaid = cli(['graph', '--crews', MATCH_DAY, '--format', 'mermaid']).stdout;
    expect(mermaid).toMatch(/^graph LR\n[\s\S]*  score_tracker -->\|-1\| commentator\n/);
    expect(mermaid).toContain('  pundit["pundit (lag 4)"]\n');
    const dot = cli(['graph', '--crews', MATCH_DAY, '--format', 'dot']).stdout;
    expect(dot).toMatch(/^digraph live_crew \{[\s\S]*"score_tracker" -> "commentator" \[label="-1"\];[\s\S]*\}\n$/);
    expect(dot).toContain('  "pundit" [label="pundit (lag 4)"];\n');
    expect(cli(['graph', '--crews', MATCH_DAY, '--format', 'svg'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Allowed choices are text, mermaid, dot/) });
  });
});

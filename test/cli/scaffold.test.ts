import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const cli = (args: readonly string[], cwd = ROOT, env: Record<string, string> = {}) => run(process.execPath, [CLI, ...args], cwd, env);

describe('live-crew new and generate', { timeout: 240_000 }, () => {
  let tarball: string;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-pack-'));
    // The tree is built already (pretest); prepack would rebuild dist under the other suites' feet.
    const packed = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
    expect(packed.code, packed.stderr).toBe(0);
    tarball = join(dir, readdirSync(dir).find((file) => file.endsWith('.tgz'))!);
  });

  it('scaffolds an app from the packed tarball, installs it, and its tests, typecheck (no skipLibCheck) and start pass; then adds a crew, a service and an interceptor with their tests', () => {
    const parent = mkdtempSync(join(tmpdir(), 'live-crew-new-'));
    // A folder above with a vitest config of its own (a repository the app is made in): the app's tests are still its own.
    writeFileSync(join(parent, 'vitest.config.ts'), "export default { test: { projects: [{ test: { name: 'parent', include: ['nothing/**/*.test.ts'] } }] } };\n");
    const app = join(parent, 'my-app');
    // The tarball's path as a user types it; the app's dependencies and dev tools from npm's cache first.
    const created = cli(['new', app, '--live-crew', relative(ROOT, tarball)], ROOT, { npm_config_prefer_offline: 'true' });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/initialized a git repository\n {2}running npm install\n\nNext: cd .*my-app && npm test && npm start\n$/);
    expect(readdirSync(app).sort()).toEqual([
      '.git',
      '.gitignore',
      'README.md',
      'crews',
      'events.jsonl',
      'live-config.yaml',
      'node_modules',
      'package-lock.json',
      'package.json',
      'src',
      'test',
      'tsconfig.build.json',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: object; devDependencies: object };
    expect(manifest.dependencies).toEqual({ 'live-crew': `file:${tarball}`, zod: expect.any(String) });
    expect(Object.keys(manifest.devDependencies).sort()).toEqual(['@types/node', 'typescript', 'vitest']);
    expect(readFileSync(join(app, '.gitignore'), 'utf8')).toMatch(/^node_modules\/$/m);

    const tested = run('npm', ['test'], app);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/1 passed/);
    // The crews run with no --crews: live-config.yaml names them.
    const started = run('npm', ['start', '--silent'], app);
    expect(started.code, started.stderr).toBe(0);
    const actions = started.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; payload: { text: string } });
    expect(actions.filter((a) => a.kind !== 'cheer').map((a) => a.payload.text)).toEqual(['Welcome, Ada!', 'Welcome, Lin!', 'Welcome, Sam!']);
    // The YAML crew beside the TypeScript one.
    expect(actions.filter((a) => a.kind === 'cheer').map((a) => a.payload.text)).toEqual(['Everyone, say hi to Ada!', 'Everyone, say hi to Lin!', 'Everyone, say hi to Sam!']);

    expect(cli(['generate', 'crew', 'referee_watch'], app).code).toBe(0);
    expect(readFileSync(join(app, 'src/crews.ts'), 'utf8')).toMatch(/export \* from '\.\/referee-watch\.js';\n$/);
    // Another spelling of the same crew would be a duplicate export: refused before it breaks the build.
    expect(cli(['g', 'crew', 'RefereeWatch'], app)).toMatchObject({ code: 1, stderr: expect.stringMatching(/src\/referee-watch\.ts exists already/) });
    expect(cli(['g', 'service', 'OddsFeed'], app)).toMatchObject({ code: 0, stdout: '  created src/odds-feed.ts\n  created test/odds-feed.test.ts\n' });
    // Its test declares a crew: decorators in test/ compile as in src/.
    expect(cli(['g', 'interceptor', 'call_counter'], app)).toMatchObject({ code: 0, stdout: '  created src/call-counter.ts\n  created test/call-counter.test.ts\n' });
    const typechecked = run('npm', ['run', 'typecheck'], app);
    expect(typechecked.code, typechecked.stdout + typechecked.stderr).toBe(0);
    const retested = run('npm', ['test'], app);
    expect(retested.code, retested.stdout + retested.stderr).toBe(0);
    expect(retested.stdout).toMatch(/Test Files +4 passed/);
  });

  it('from a git checkout, depends on the checkout itself (the package is on no registry then), and its tests pass', () => {
    const app = join(mkdtempSync(join(tmpdir(), 'live-crew-new-')), 'from-checkout');
    const created = cli(['new', app, '--skip-git'], ROOT, { npm_config_prefer_offline: 'true' });
    expect(created.code, created.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(manifest.dependencies['live-crew']).toBe(existsSync(join(ROOT, '.git')) ? `file:${ROOT}` : `^${version}`);
    expect(existsSync(join(app, '.git'))).toBe(false);
    const tested = run('npm', ['test'], app);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
  });

  it('--skip-install and --skip-git write the app and leave both steps to the user', () => {
    const app = join(mkdtempSync(join(tmpdir(), 'live-crew-new-')), 'bare');
    const created = cli(['new', app, '--skip-install', '--skip-git', '--live-crew', '^9.9.9']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/\n\nNext: cd .*bare && npm install && npm test && npm start\n$/);
    expect(readdirSync(app)).not.toEqual(expect.arrayContaining(['node_modules']));
    expect(existsSync(join(app, '.git'))).toBe(false);
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))).toMatchObject({ dependencies: { 'live-crew': '^9.9.9' } });
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

  it("validate: warns about a dependency that waits inside a lagging crew's lag, and still passes", () => {
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
    expect(mermaid).toMatch(/^graph LR\n[\s\S]* {2}score_tracker -->\|-1\| commentator\n/);
    expect(mermaid).toContain('  pundit["pundit (lag 4)"]\n');
    const dot = cli(['graph', '--crews', MATCH_DAY, '--format', 'dot']).stdout;
    expect(dot).toMatch(/^digraph live_crew \{[\s\S]*"score_tracker" -> "commentator" \[label="-1"\];[\s\S]*\}\n$/);
    expect(dot).toContain('  "pundit" [label="pundit (lag 4)"];\n');
    expect(cli(['graph', '--crews', MATCH_DAY, '--format', 'svg'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Allowed choices are text, mermaid, dot/) });
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Examples run from their built output and import `live-crew` by name, as an application does.
const ROOT = resolve(import.meta.dirname, '../..');

function node(args: string[]) {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('examples', () => {
  it('hello-world prints the pinned actions through `npm start`\'s command line', () => {
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
    expect(readme).toContain('```ts\n' + readFileSync(join(ROOT, 'examples/quickstart/quickstart.ts'), 'utf8') + '```');
  });

  it('the quickstart counts two goals of one slice and prints the final score', () => {
    const r = node(['examples/quickstart/dist/quickstart.js']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { payload: unknown }).payload)).toEqual([
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

  it('a paced live replay gives the same output as the batch run', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'run', EVENTS, '--crews', CREWS, '--pace', '4000'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, LIVE_CREW_LATENESS_MS: '60000' },
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(readFileSync(join(ROOT, 'examples/match-day/expected-actions.jsonl'), 'utf8'));
  });
});

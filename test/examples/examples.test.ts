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

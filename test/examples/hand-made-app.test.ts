import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's path for an app written by hand: its tsconfig, the TypeScript it names (the one
// live-crew builds with), a crew with constructor injection and a node: import, run by the CLI.
const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The tsconfig the README gives after its `<!-- hand-made tsconfig -->` marker. */
function readmeTsconfig(): { compilerOptions: Record<string, unknown> } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- hand-made tsconfig -->\n```json\n([\s\S]*?)\n```/.exec(readme);
  if (block === null) throw new Error('the README has no hand-made tsconfig');
  return JSON.parse(block[1]!) as { compilerOptions: Record<string, unknown> };
}

const CREWS = `import { hostname } from 'node:os';
import { Crew, OnEvent, injectable, type CrewContext, type Event } from 'live-crew';

@injectable()
export class Greeting {
  text(name: string): string {
    return hostname().length > 0 ? \`Welcome \${name}!\` : '';
  }
}

@Crew({ id: 'greeter' })
export class Greeter {
  constructor(private readonly greeting: Greeting) {}

  @OnEvent('user_signup')
  onSignup(event: Event<{ name: string }>, ctx: CrewContext): void {
    ctx.emit('greeting', { message: this.greeting.text(event.payload.name) });
  }
}
`;

/** A fresh app folder: package.json, src/crews.ts, events, and live-crew, TypeScript and @types/node installed (linked). */
function app(tsconfig: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-by-hand-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'by-hand', private: true, type: 'module' }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'crews.ts'), CREWS);
  writeFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts: '2024-05-01T09:00:00Z', kind: 'user_signup', stream_id: 'app', payload: { name: 'Ada' } })}\n`);
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'live-crew'));
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  return dir;
}

const run = (command: string, args: string[], cwd: string) => spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 150_000 });

describe('an app made by hand, as the README says', () => {
  it("compiles with the README's tsconfig and TypeScript, and runs with its constructor injection", () => {
    const dir = app(readmeTsconfig());
    const compiled = run(process.execPath, [TSC, '-p', '.'], dir);
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);
    const ran = run(process.execPath, [CLI, 'run', 'events.jsonl', '--crews', 'dist/crews.js'], dir);
    expect(ran.stderr).toBe('');
    expect(JSON.parse(ran.stdout)).toMatchObject({ kind: 'greeting', payload: { message: 'Welcome Ada!' } });
  });

  it('without experimentalDecorators, tsc compiles standard decorators and emits; live-crew refuses the module, saying what to set', () => {
    const tsconfig = readmeTsconfig();
    const { experimentalDecorators: _, emitDecoratorMetadata: __, ...standard } = tsconfig.compilerOptions;
    const dir = app({ ...tsconfig, compilerOptions: standard });
    const compiled = run(process.execPath, [TSC, '-p', '.'], dir);
    expect(compiled.status).not.toBe(0);
    expect(compiled.stdout).toMatch(/error TS1241/);
    const ran = run(process.execPath, [CLI, 'run', 'events.jsonl', '--crews', 'dist/crews.js'], dir);
    expect(ran.status).toBe(1);
    expect(ran.stderr).toContain(
      'cannot load crews module dist/crews.js: @OnEvent was applied as a standard (TC39) decorator: live-crew\'s decorators are TypeScript\'s experimental ones, which carry the constructor metadata dependency injection needs. Set "experimentalDecorators": true and "emitDecoratorMetadata": true in tsconfig.json',
    );
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** A project that installed the packed package: live-crew from the tarball, its dependencies (and TypeScript's) beside it. */
function consumerProject(tarball: string, packageJson: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-consumer-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'live-crew'), { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', join(modules, 'live-crew'), '--strip-components=1']);
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) if (entry !== 'live-crew' && entry !== '.bin') symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, ...packageJson }));
  mkdirSync(join(dir, 'src'));
  return dir;
}

function node(args: readonly string[], cwd: string) {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SIGNUP = `[{ ts: '2024-05-01T09:00:00Z', kind: 'user_signup', stream_id: 'app', payload: { name: 'Ada' } }]`;

describe('the packed package, from its consumers', () => {
  let tarball: string;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'live-crew-pack-'));
    // The tree is built already (pretest); prepack would rebuild dist under the other suites' feet.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, stdio: 'pipe' });
    tarball = join(dir, readdirSync(dir).find((file) => file.endsWith('.tgz'))!);
  });

  it('a CommonJS module requires live-crew and live-crew/testing (require(esm)), with no warning', () => {
    const dir = consumerProject(tarball, {});
    writeFileSync(
      join(dir, 'index.js'),
      `const { Crew, OnEvent } = require('live-crew');
const { createTestingApp } = require('live-crew/testing');
class Greeter { hi(event, ctx) { ctx.emit('greeting', { text: 'hi ' + event.payload.name }); } }
OnEvent('user_signup')(Greeter.prototype, 'hi', Object.getOwnPropertyDescriptor(Greeter.prototype, 'hi'));
Crew({ id: 'greeter' })(Greeter);
createTestingApp({ crews: [Greeter] }).then((t) => t.run(${SIGNUP})).then((r) => console.log(JSON.stringify(r.actions.map((a) => a.payload))));
`,
    );
    expect(node(['index.js'], dir)).toEqual({ code: 0, stdout: '[{"text":"hi Ada"}]\n', stderr: '' });
  });

  it('a CommonJS TypeScript project (moduleResolution node10, no skipLibCheck) compiles against the types and runs, a service injected by its class', () => {
    const dir = consumerProject(tarball, {});
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'commonjs',
          moduleResolution: 'node10',
          esModuleInterop: true,
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          outDir: 'out',
          types: ['node'],
        },
        include: ['src'],
      }),
    );
    writeFileSync(
      join(dir, 'src/greeter.ts'),
      `import { Crew, OnEvent, injectable, type CrewContext, type Event } from 'live-crew';
import { createTestingApp } from 'live-crew/testing';
import { z } from 'zod';

@injectable()
export class Salutation { readonly word = 'hello'; }
const Signup = z.object({ name: z.string() });

@Crew({ id: 'greeter' })
export class Greeter {
  constructor(private readonly salutation: Salutation) {}
  @OnEvent('user_signup', { payload: Signup })
  hi(event: Event<z.infer<typeof Signup>>, ctx: CrewContext) {
    ctx.emit('greeting', { text: this.salutation.word + ' ' + event.payload.name });
  }
}

void createTestingApp({ crews: [Greeter] }).then((t) => t.run(${SIGNUP})).then((r) => console.log(JSON.stringify(r.actions.map((a) => a.payload))));
`,
    );
    const compiled = node([TSC, '-p', '.'], dir);
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(node(['out/greeter.js'], dir)).toMatchObject({ code: 0, stdout: '[{"text":"hello Ada"}]\n' });
  });

  it('an ES module project (nodenext, no skipLibCheck) compiles against every entry, and the root loads no adapter client until configuration asks', () => {
    const dir = consumerProject(tarball, { type: 'module' });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true, experimentalDecorators: true, emitDecoratorMetadata: true, outDir: 'out' }, include: ['src'] }),
    );
    writeFileSync(
      join(dir, 'src/entries.ts'),
      `import { createLiveCrewApp } from 'live-crew';
import { createTestingApp } from 'live-crew/testing';
import { FileEventSource, pinoLogger } from 'live-crew/embedded';
import { JetStreamContextBackend, runDistributedRunner } from 'live-crew/nats';
import { RedisContextBackend } from 'live-crew/redis';
import { PrometheusMonitor } from 'live-crew/prometheus';
import { AiSdkModelProvider, hashEmbedder } from 'live-crew/ai';
import { PGliteVectorStore, QdrantVectorStore } from 'live-crew/vectors';
const entries = [createLiveCrewApp, createTestingApp, FileEventSource, pinoLogger, JetStreamContextBackend, runDistributedRunner, RedisContextBackend, PrometheusMonitor, AiSdkModelProvider, hashEmbedder, PGliteVectorStore, QdrantVectorStore];
console.log(entries.filter((entry) => typeof entry === 'function').length);
`,
    );
    // Which packages a process has loaded, told by a module hook when it exits.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `export async function load(url, context, next) { const m = url.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/); if (m) globalThis.port.postMessage(m[1]); return next(url, context); }\nexport function initialize({ port }) { globalThis.port = port; }\n`,
    );
    writeFileSync(
      join(dir, 'loaded.mjs'),
      `import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const loaded = new Set();
port1.on('message', (name) => loaded.add(name));
port1.unref();
register('./hooks.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
const { createLiveCrewApp, Crew, OnEvent } = await import('live-crew');
const atImport = [...loaded];
class Idle { on() {} }
OnEvent('tick')(Idle.prototype, 'on', Object.getOwnPropertyDescriptor(Idle.prototype, 'on'));
Crew({ id: 'idle' })(Idle);
const app = await createLiveCrewApp({ crews: [Idle], configFile: false, config: { input: 'events.jsonl', log_level: 'silent' } });
await app.run();
await new Promise((resolve) => setTimeout(resolve, 100));
console.log(JSON.stringify({ atImport, atApp: [...loaded].filter((name) => !atImport.includes(name)) }));
`,
    );
    writeFileSync(join(dir, 'events.jsonl'), '');
    const compiled = node([TSC, '-p', '.'], dir);
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(node(['out/entries.js'], dir)).toMatchObject({ code: 0, stdout: '12\n' });

    const run = node(['loaded.mjs'], dir);
    expect(run.code, run.stderr).toBe(0);
    const { atImport, atApp } = JSON.parse(run.stdout) as { atImport: string[]; atApp: string[] };
    const clients = ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv', 'ioredis', 'prom-client', 'pino', 'liquidjs', 'ai'];
    expect(atImport.filter((name) => clients.includes(name))).toEqual([]);
    expect(atImport).toEqual(expect.arrayContaining(['tsyringe', 'zod']));
    // The embedded defaults: pino for the logs, nothing else.
    expect(atApp.filter((name) => clients.includes(name))).toEqual(['pino']);
  });
});

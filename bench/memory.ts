/**
 * Memory: a generated JSONL file (default 10M lines) streamed through the app with the three
 * bench crews, file source to a file sink, in a child process that reports its own peak RSS.
 *
 *   npm run bench:memory [-- --lines 10000000]
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLiveCrewApp } from 'live-crew';
import { crews } from './crews.js';
import { eventLine } from './events.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function generate(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    chunk += `${eventLine(i)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** The measured run: prints its figures as JSON for the parent. */
async function child(input: string): Promise<void> {
  const app = await createLiveCrewApp({ crews, configFile: false, env: {}, config: { input, output: '/dev/null', log_level: 'warn' } });
  const summary = await app.run();
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ events: summary.events, actions: summary.actions, seconds: summary.durationMs / 1000, peakRssMb }));
}

async function parent(): Promise<void> {
  const lines = arg('lines', 10_000_000);
  const dir = join(tmpdir(), 'live-crew-bench');
  mkdirSync(dir, { recursive: true });
  const input = join(dir, `events-${lines}.jsonl`);
  if (!existsSync(input)) {
    process.stderr.write(`generating ${lines.toLocaleString('en-US')} lines into ${input} ...\n`);
    await generate(input, lines);
  }
  const sizeMb = statSync(input).size / 2 ** 20;
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', input], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`measured run failed with status ${run.status}`);
  const r = JSON.parse(run.stdout) as { events: number; actions: number; seconds: number; peakRssMb: number };
  console.log(`memory: ${lines.toLocaleString('en-US')}-line JSONL file (${sizeMb.toFixed(0)} MB) streamed through 3 crews to a file sink`);
  console.log(
    `  events ${r.events.toLocaleString('en-US')}, actions ${r.actions.toLocaleString('en-US')}, ${r.seconds.toFixed(1)} s (${Math.round(r.events / r.seconds).toLocaleString('en-US')} events/s)`,
  );
  console.log(`  peak RSS ${r.peakRssMb.toFixed(0)} MB`);
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1]!);
else await parent();

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary } from '../integration/servers.js';

// The benchmarks must keep running; their figures are read by people, never asserted here.
const ROOT = resolve(import.meta.dirname, '../..');

function bench(script: string, args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bench/dist', script), ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('benchmarks', () => {
  it('throughput runs the framework and the baseline over the same events and prints both and the ratio', () => {
    const r = bench('throughput.js', ['--events', '3000', '--rounds', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/framework +[\d,]+ events\/s[\s\S]*baseline +[\d,]+ events\/s[\s\S]*framework time \/ baseline time = [\d.]+x/);
  });

  it('throughput --deps runs the dependency variant', () => {
    const r = bench('throughput.js', ['--events', '3000', '--rounds', '1', '--deps']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/with a dependency at -1[\s\S]*framework time \/ baseline time = [\d.]+x/);
  });

  it('latency runs the framework and the baseline at a paced rate and prints percentiles and the ratio', () => {
    const r = bench('latency.js', ['--rate', '1000', '--seconds', '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/framework +p50 +[\d.]+ ms +p99 +[\d.]+ ms[\s\S]*baseline +p50[\s\S]*framework p99 \/ baseline p99 = [\d.]+x/);
  });

  it.skipIf(requireBinary('nats-server') === undefined)(
    'nats-e2e runs the framework pipelines and both hand-written baselines over JetStream and prints throughput, bytes stored, pooled latency and ratios',
    () => {
      const r = bench('nats-e2e.js', ['--events', '600', '--rates', '200', '--seconds', '1', '--rounds', '2']);
      expect(r.status, r.stderr).toBe(0);
      // Two rates each (from the pipeline's start, and while it runs) and the bytes it left stored per event.
      const rates = ' +[\\d,]+ events/s +[\\d,]+ events/s +[\\d,]+ bytes';
      for (const name of [
        'framework, in process \\(transport: nats\\)',
        'framework, distributed \\(1 scheduler \\+ 1 runner\\)',
        'framework, distributed \\(2 processes\\)',
        'baseline, hand-written nats\\.js',
        'baseline, hand-written, two hops',
      ]) {
        expect(r.stdout).toMatch(new RegExp(`${name}${rates}\\n`));
      }
      expect(r.stdout).toMatch(/framework, distributed \(1 scheduler \+ 1 runner\): \d+% \/ \d+% of the baseline's throughput, \d+% \/ \d+% of the two-hop baseline's/);
      expect(r.stdout).toMatch(
        /2 turns of each pipeline in alternating order, pooled[\s\S]*at 200 events\/s:[\s\S]*distributed .*p50 +[\d.]+ ms +p99 +[\d.]+ ms +\(400 of 400 actions\)[\s\S]*distributed \(1 scheduler \+ 1 runner\): p99 \/ baseline p99 = [\d.]+x, \/ two-hop baseline p99 = [\d.]+x/,
      );
    },
  );

  it.skipIf(requireBinary('nats-server') === undefined)('takeover runs a leader to the end, a successor after it, and prints the takeover time per size', () => {
    const r = bench('takeover.js', ['--events', '300,600']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ +300 events +\d+ ms +1\.00x the smallest\n +600 events +\d+ ms +[\d.]+x the smallest\n$/);
  });

  it('memory streams a generated file in a child process and prints its peak RSS', () => {
    const r = bench('memory.js', ['--lines', '3000']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/events 3,000, actions 3,000[\s\S]*peak RSS \d+ MB/);
  });

  it('vectors loads the memory and pglite stores, queries them beside hand-written SQL and through a crew, and prints rates, percentiles, recall and ratios', () => {
    const r = bench('vectors.js', ['--points', '2000', '--dim', '32', '--queries', '20']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/memory \(exact\) +[\d,]+\/s +[\d,]+\/s +[\d.]+ ms +[\d.]+ ms +1\.000/);
    expect(r.stdout).toMatch(/pglite \(HNSW\) +[\d,]+\/s +[\d,]+\/s +[\d.]+ ms +[\d.]+ ms +[01]\.\d{3}/);
    expect(r.stdout).toMatch(/the pglite store: [\d.]+× at p50, [\d.]+× at p99/);
    expect(r.stdout).toMatch(/ctx\.vectors\(\)\.search \(journaled\) p50 [\d.]+ ms[\s\S]*[\d.]+× at p50/);
  });
});

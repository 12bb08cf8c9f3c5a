import { performance } from 'node:perf_hooks';
import type { EmittedAction, EventSource, InputBatch } from 'live-crew';

/**
 * Releases JSON event lines at `rate` per second, every millisecond what is due, stamping when
 * each arrived by its `ts` (the lines must start with `{"ts":"<24 characters>"`), so a sink can
 * take each action's latency from its event's arrival.
 */
export class PacedFeed implements EventSource {
  readonly arrivals = new Map<string, number>();

  constructor(
    private readonly lines: readonly string[],
    private readonly rate: number,
  ) {}

  async *batches(): AsyncGenerator<InputBatch> {
    const origin = { name: 'feed', locate: (n: number) => `feed:${n}` };
    const start = performance.now();
    let next = 0;
    while (next < this.lines.length) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const due = Math.min(this.lines.length, Math.floor(((performance.now() - start) * this.rate) / 1000));
      if (due <= next) continue;
      const now = performance.now();
      const records = [];
      for (; next < due; next++) {
        const text = this.lines[next]!;
        this.arrivals.set(text.slice(7, 31), now);
        records.push({ text, position: next + 1 });
      }
      yield { origin, records };
    }
  }

  async close(): Promise<void> {}
}

/** The `n`-quantiles a latency report prints. */
export function percentiles(samples: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** Keeps each `fast` action's latency from its event's arrival (`PacedFeed.arrivals`), and counts the other actions. */
export class LatencySink {
  readonly fast: number[] = [];
  answers = 0;
  constructor(private readonly arrivals: Map<string, number>) {}
  write(actions: readonly EmittedAction[]): void {
    const now = performance.now();
    for (const { action } of actions) {
      if (action.kind === 'fast') this.fast.push(now - this.arrivals.get(action.ts)!);
      else this.answers++;
    }
  }
  async close(): Promise<void> {}
}

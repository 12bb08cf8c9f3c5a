import type { Clock } from '../ports/clock.js';

interface Timer {
  readonly due: number;
  readonly order: number;
  readonly resolve: () => void;
}

/**
 * A virtual clock for live-mode tests. Its time moves only when the program has nothing else to
 * do: then it jumps to the earliest pending `sleep` and wakes it. A paced live run over events
 * in memory thus takes no real time and is exactly repeatable. Use it with in-memory sources:
 * work it cannot see (file or network I/O) would let it run ahead.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const t = await createTestingApp({ crews, config: { pace: 1 }, providers: [{ token: CLOCK, useValue: clock }] });
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #timers: Timer[] = [];
  #order = 0;
  #running = false;

  /** @param start - the clock's first reading, in ms since the epoch */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by hand, as if work took `ms` (sleeps that fall due wake in due order). */
  advance(ms: number): void {
    this.#now += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer: Timer = { due: this.#now + Math.max(0, ms), order: this.#order++, resolve };
      this.#timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.#timers = this.#timers.filter((t) => t !== timer);
          resolve();
        },
        { once: true },
      );
      void this.#run();
    });
  }

  /** Wakes sleepers one at a time, each once everything the last one started has settled. */
  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#timers.length > 0) {
        // Promise callbacks all run before an immediate: after it, the program is idle.
        await new Promise((resolve) => setImmediate(resolve));
        this.#timers.sort((a, b) => a.due - b.due || a.order - b.order);
        const timer = this.#timers.shift()!;
        if (timer.due > this.#now) this.#now = timer.due;
        timer.resolve();
      }
    } finally {
      this.#running = false;
    }
  }
}

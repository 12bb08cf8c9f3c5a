import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { RunObserver } from '../ports/run-observer.js';
import { messages } from '../messages.js';

/** Beats a process may miss before it counts as silent (DESIGN §6: a gap of more than 3 beats). */
const SILENT_AFTER_BEATS = 3;
/**
 * The most processes watched at once: beats are published by any process of a deployment, and a
 * flood of made-up names must not grow the watch, its logs or its metrics without end.
 */
export const MAX_WATCHED = 64;

/** What a `HeartbeatWatch` needs. */
export interface HeartbeatWatchOptions {
  /** The processes' heartbeat interval (`heartbeat_s`). */
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told when a process falls silent, and when it beats again. */
  readonly observer?: RunObserver;
}

/**
 * Watches other processes' heartbeats (the distributed scheduler watches its runners'): one not
 * heard from for more than 3 beats is reported silent once (an error log line,
 * `runnerSilent(name, true)`), and reported back when it beats again. A process is known from its
 * first beat on (logged at info): one that never beat is not missed (the scheduler's own "waits for the report of"
 * warning names the crews no runner hosts).
 */
export class HeartbeatWatch {
  readonly #options: HeartbeatWatchOptions;
  /** Per process: when it last beat, and whether it is reported silent. */
  readonly #processes = new Map<string, { last: number; silent: boolean }>();
  /** Whether a process was turned away for the bound (said once). */
  #full = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: HeartbeatWatchOptions) {
    this.#options = options;
  }

  /** Checks every interval, until `stop()`. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.check(), this.#options.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Process `name` beat now. */
  beat(name: string): void {
    const now = this.#options.clock.now();
    const known = this.#processes.get(name);
    if (known === undefined) {
      if (this.#processes.size < MAX_WATCHED) {
        this.#processes.set(name, { last: now, silent: false });
        this.#options.logger.info({ process: name }, messages.processWatched(name));
      } else if (!this.#full) {
        this.#full = true;
        this.#options.logger.warn({ process: name }, messages.heartbeatWatchFull(MAX_WATCHED, name));
      }
      return;
    }
    if (known.silent) {
      this.#options.logger.info({ process: name, t_ms: now - known.last }, messages.processBeatsAgain(name, now - known.last));
      this.#options.observer?.runnerSilent?.(name, false);
    }
    known.last = now;
    known.silent = false;
  }

  /** Reports the processes that have been silent too long; the timer calls it, a test may too. */
  check(): void {
    const now = this.#options.clock.now();
    const limit = SILENT_AFTER_BEATS * this.#options.intervalMs;
    for (const [name, process] of this.#processes) {
      if (process.silent || now - process.last <= limit) continue;
      process.silent = true;
      this.#options.logger.error({ process: name, t_ms: now - process.last }, messages.processSilent(name, now - process.last, SILENT_AFTER_BEATS));
      this.#options.observer?.runnerSilent?.(name, true);
    }
  }
}

import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Monitor } from '../ports/run-observer.js';
import { messages } from '../messages.js';

/** A monitor that watches nothing: the default when no metrics are served. */
export const NO_MONITOR: Monitor = { close: async () => undefined };

/** What a `Heartbeat` needs. */
export interface HeartbeatOptions {
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly monitor: Monitor;
  /** Sends beat number `seq`: a log line in file mode, a message on `live.<stream>.heartbeats` over NATS. */
  readonly beat: (seq: number) => unknown;
}

/**
 * A process's heartbeat (`__hb`, DESIGN §6) every `heartbeat_s`, with its own watchdog: when two
 * beats are more than 3 intervals apart (the event loop was blocked, the process stalled), it
 * logs an error and counts a gap.
 */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;
  #seq = 0;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#last = this.#options.clock.now();
    this.#timer = setInterval(() => this.tick(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** One beat; the timer calls it, a test may too. */
  tick(): void {
    const { clock, intervalMs, logger, monitor } = this.#options;
    const now = clock.now();
    const gap = now - this.#last;
    this.#last = now;
    if (gap > 3 * intervalMs) {
      logger.error({ t_ms: gap }, messages.heartbeatGap(gap, intervalMs));
      monitor.heartbeatGap?.(gap);
    }
    this.#options.beat(++this.#seq);
    monitor.heartbeat?.();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

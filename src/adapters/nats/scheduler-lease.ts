import { z } from 'zod';
import type { Clock } from '../../framework/ports/clock.js';
import type { Logger } from '../../framework/ports/logger.js';
import { messages } from '../../framework/messages.js';
import type { RunStateBucket } from './run-state-bucket.js';

/** The scheduler's lease of a stream: the run bucket key a pool worker claims too. */
export const SCHEDULER_LEASE_KEY = 'scheduler.lease';
/** How often a standby looks at the lease, in ms. */
const STANDBY_POLL_MS = 500;
const Lease = z.object({ holder: z.string(), until: z.number() });

/**
 * Which scheduler schedules a stream (DESIGN §5): a lease in the run's KV bucket, taken and
 * renewed only by revision-checked writes, so two schedulers never both believe they hold it.
 * A standby waits until the holder lets it lapse (it died) or gives it up (it stopped), then
 * takes it. The holder renews every third of the lease time; a renewal refused because someone
 * else took the lease means this process lost it and must stop at once.
 */
export class SchedulerLease {
  readonly #bucket: RunStateBucket;
  readonly #key: string;
  readonly #holder: string;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #revision: number | undefined;
  /** When the lease was last taken or renewed (ms since the epoch). */
  #renewedAt = 0;
  #renewing: ReturnType<typeof setInterval> | undefined;

  /**
   * @param holder - a name for this process, shown to standbys
   * @param key - the lease's key in the bucket: the scheduler's, or a runner group's (`runner.<group>.lease`)
   */
  constructor(bucket: RunStateBucket, holder: string, ttlMs: number, clock: Clock, logger: Logger, key = SCHEDULER_LEASE_KEY) {
    this.#bucket = bucket;
    this.#key = key;
    this.#holder = holder;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
    this.#logger = logger;
  }

  /**
   * Resolves once this process holds the lease; `waiting` is told who holds it meanwhile.
   * Resolves false when `signal` aborts first.
   */
  async acquire(signal: AbortSignal, waiting: (holder: string) => void = () => undefined): Promise<boolean> {
    let told: string | undefined;
    // One listener for the whole wait: a standby may wait for hours.
    const aborted = abortion(signal);
    while (!signal.aborted) {
      const held = await this.tryAcquire();
      if (held === 'free' || held === 'lapsed') return true;
      if (held === undefined) continue;
      if (told !== held.holder) waiting((told = held.holder));
      // Looked at twice a second: a lease given up (a clean stop) is taken at once.
      await Promise.race([this.#clock.sleep(Math.min(STANDBY_POLL_MS, held.until - this.#clock.now() + 1)), aborted]);
    }
    return false;
  }

  /**
   * Takes the lease if nobody holds it (or its holder let it lapse), in one revision-checked
   * write: `free` or `lapsed` when this process holds it now (`lapsed`: its holder died or was cut
   * off); who holds it and until when otherwise; undefined when another process took it between
   * the read and the write.
   */
  async tryAcquire(): Promise<'free' | 'lapsed' | { readonly holder: string; readonly until: number } | undefined> {
    const current = await this.#bucket.get(this.#key, Lease);
    // A lease no scheduler wrote holds nobody: it is taken as one that lapsed.
    if (current?.refused !== undefined) this.#logger.warn({ key: this.#key }, messages.runStateIgnored(current.refused, 'taken as a lease that lapsed'));
    if (current?.value !== undefined && current.value.until > this.#clock.now()) return current.value;
    this.#revision = await this.#bucket.swap(this.#key, this.#lease(), current?.revision);
    if (this.#revision === undefined) return undefined;
    this.#renewedAt = this.#clock.now();
    return current?.value !== undefined ? 'lapsed' : 'free';
  }

  /** Renews the lease until `release()`; calls `lost` once if another process took it. */
  keep(lost: () => void): void {
    let renewal: Promise<void> = Promise.resolve();
    this.#renewing = setInterval(() => {
      renewal = renewal.then(async () => {
        if (this.#revision === undefined) return;
        // A write that failed (the server out of reach) renews nothing, and is tried again next time.
        const revision = await this.#bucket.swap(this.#key, this.#lease(), this.#revision).catch(() => 'failed' as const);
        if (revision === 'failed') return;
        if (revision === undefined) {
          this.#stopRenewing();
          this.#revision = undefined;
          lost();
          return;
        }
        this.#revision = revision;
        this.#renewedAt = this.#clock.now();
      });
    }, this.#ttlMs / 3);
    this.#renewing.unref();
  }

  /** When this process last took or renewed the lease (ms since the epoch; 0 before it took it). */
  get renewedAt(): number {
    return this.#renewedAt;
  }

  /** Gives the lease up, so a standby takes over at once instead of after it lapses. */
  async release(): Promise<void> {
    this.#stopRenewing();
    if (this.#revision === undefined) return;
    this.#revision = undefined;
    await this.#bucket.delete(this.#key).catch(() => undefined);
  }

  #lease() {
    return { holder: this.#holder, until: this.#clock.now() + this.#ttlMs };
  }

  #stopRenewing(): void {
    if (this.#renewing !== undefined) clearInterval(this.#renewing);
    this.#renewing = undefined;
  }
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

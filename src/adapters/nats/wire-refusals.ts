import type { Clock } from '../../framework/ports/clock.js';
import type { Logger } from '../../framework/ports/logger.js';
import { messages } from '../../framework/messages.js';

/** How many refused messages a process remembers having logged: enough for any re-read, bounded against a flood. */
const REMEMBERED = 10_000;
/** The most refusals logged one by one in a minute; past it, they are counted and said in one line. */
const LOGGED_PER_MINUTE = 1_000;
const MINUTE_MS = 60_000;

/**
 * The log of the messages a process refused on the wire (DESIGN §5 amendments: nothing on the
 * wire can stop a stream): each is logged once, with its subject and stream sequence, and what
 * happens instead. A reader that goes over a message again (a replica reading reports again)
 * does not log it twice; a restarted process logs it once more. A flood is not logged line by
 * line: past LOGGED_PER_MINUTE in a minute, the rest are counted, and the count is logged when
 * the next minute's first refusal comes.
 */
export class WireRefusals {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #logged = new Set<string>();
  #minuteFrom = Number.NEGATIVE_INFINITY;
  #thisMinute = 0;
  #unlogged = 0;

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  /** Logs that the message at `seq` on `subject` was refused for `problem`, and `consequence`: what came of it. */
  refuse(subject: string, seq: number, problem: string, consequence: string): void {
    const key = `${subject}#${seq}`;
    if (this.#logged.has(key)) return;
    if (this.#logged.size >= REMEMBERED) this.#logged.delete(this.#logged.values().next().value!);
    this.#logged.add(key);
    const now = this.#clock.now();
    if (now - this.#minuteFrom >= MINUTE_MS) {
      if (this.#unlogged > 0) this.#logger.warn({ refused: this.#unlogged }, messages.wireRefusalsUnlogged(this.#unlogged, LOGGED_PER_MINUTE));
      this.#minuteFrom = now;
      this.#thisMinute = 0;
      this.#unlogged = 0;
    }
    if (++this.#thisMinute > LOGGED_PER_MINUTE) {
      this.#unlogged++;
      return;
    }
    this.#logger.warn({ subject, seq }, messages.wireMessageRefused(subject, seq, problem, consequence));
  }
}

import type { Logger } from '../../framework/ports.js';
import { messages } from '../../framework/messages.js';

/** How many refused messages a process remembers having logged: enough for any re-read, bounded against a flood. */
const REMEMBERED = 10_000;

/**
 * The log of the messages a process refused on the wire (DESIGN §5 amendments: nothing on the
 * wire can stop a stream): each is logged once, with its subject and stream sequence, and what
 * happens instead. A reader that goes over a message again (a replica reading reports again)
 * does not log it twice; a restarted process logs it once more.
 */
export class WireRefusals {
  readonly #logger: Logger;
  readonly #logged = new Set<string>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Logs that the message at `seq` on `subject` was refused for `problem`, and `consequence`: what came of it. */
  refuse(subject: string, seq: number, problem: string, consequence: string): void {
    const key = `${subject}#${seq}`;
    if (this.#logged.has(key)) return;
    if (this.#logged.size >= REMEMBERED) this.#logged.delete(this.#logged.values().next().value!);
    this.#logged.add(key);
    this.#logger.warn({ subject, seq }, messages.wireMessageRefused(subject, seq, problem, consequence));
  }
}

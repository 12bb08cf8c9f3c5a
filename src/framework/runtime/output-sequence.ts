import type { ErrorRecord } from '../model/error-record.js';
import type { EmittedAction } from '../ports/sinks.js';
import type { RunOutput } from './run-output.js';

/** A place in the output, reserved for something that ends later (a call in flight, a slice merging). */
export interface OutputSlot extends RunOutput {
  /** What was to go here is all here: it goes out once everything before it has. */
  done(): void;
}

/** A slot that writes straight through: the output of live mode, where records go out as they come. */
class PassThroughSlot implements OutputSlot {
  readonly #out: RunOutput;

  constructor(out: RunOutput) {
    this.#out = out;
  }

  action(action: EmittedAction): void {
    this.#out.action(action);
  }

  error(record: ErrorRecord): void {
    this.#out.error(record);
  }

  done(): void {}
}

/** A slot that holds its records until it is done. */
class HeldSlot implements OutputSlot {
  actions: EmittedAction[] | undefined;
  errors: ErrorRecord[] | undefined;
  isDone = false;
  readonly #sequence: OutputSequence;

  constructor(sequence: OutputSequence) {
    this.#sequence = sequence;
  }

  action(action: EmittedAction): void {
    (this.actions ??= []).push(action);
  }

  error(record: ErrorRecord): void {
    (this.errors ??= []).push(record);
  }

  done(): void {
    this.isDone = true;
    this.#sequence.release();
  }
}

/**
 * Puts output in a deterministic order when calls end out of order. In batch mode (`ordered`) a
 * call that cannot end at once reserves a slot where it was dispatched; what is written after
 * it waits until the slot is done, so the output is that of a run where every call ended at
 * once, whatever the timing. In live mode records go out as they come: a slow crew never holds
 * a fast one's actions up.
 *
 * While nothing is reserved, records pass straight through: the synchronous path pays nothing.
 */
export class OutputSequence implements RunOutput {
  readonly #out: RunOutput;
  readonly #ordered: boolean;
  readonly #passThrough: PassThroughSlot;
  /** Slots from the oldest one not done, in order; empty while nothing waits. */
  #queue: HeldSlot[] = [];
  #head = 0;

  constructor(out: RunOutput, ordered: boolean) {
    this.#out = out;
    this.#ordered = ordered;
    this.#passThrough = new PassThroughSlot(out);
  }

  action(action: EmittedAction): void {
    if (this.#head === this.#queue.length) this.#out.action(action);
    else this.#tail().action(action);
  }

  error(record: ErrorRecord): void {
    if (this.#head === this.#queue.length) this.#out.error(record);
    else this.#tail().error(record);
  }

  /** A slot at the current end of the output. */
  reserve(): OutputSlot {
    if (!this.#ordered) return this.#passThrough;
    const slot = new HeldSlot(this);
    this.#queue.push(slot);
    return slot;
  }

  /** Writes out the done slots at the head of the queue. */
  release(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]!.isDone) {
      const slot = queue[this.#head++]!;
      if (slot.errors !== undefined) for (const record of slot.errors) this.#out.error(record);
      if (slot.actions !== undefined) for (const action of slot.actions) this.#out.action(action);
    }
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The slot records written now go into: a done one after the last slot, so they keep their place. */
  #tail(): HeldSlot {
    const last = this.#queue[this.#queue.length - 1]!;
    if (last.isDone) return last;
    const slot = new HeldSlot(this);
    slot.isDone = true;
    this.#queue.push(slot);
    return slot;
  }
}

/**
 * Where events come from: a source of input batches with backpressure.
 */
import type { InputOrigin, InputRecord } from '../model/input-record.js';
import type { MaybePromise } from './maybe-promise.js';

/** Records that arrived together. Sources batch so the per-record cost stays small. */
export interface InputBatch {
  readonly origin: InputOrigin;
  readonly records: readonly InputRecord[];
  /**
   * Called once everything the batch produced has been accepted by the sinks and the slices
   * holding its events are merged and committed: a source with acknowledgements (JetStream)
   * acks here, so a crash before it redelivers the batch and no context write is lost.
   */
  ack?(): MaybePromise<void>;
}

/**
 * Where events come from. Iterating pulls batches; a source reads ahead only a bounded amount,
 * so a slow consumer slows the source down (backpressure) instead of filling memory.
 */
export interface EventSource {
  /** The batches in arrival order; ends when the input ends. Breaking out stops reading. */
  batches(): AsyncIterable<InputBatch>;
  /** Releases what the source holds (files, subscriptions). Safe to call twice. */
  close(): Promise<void>;
}

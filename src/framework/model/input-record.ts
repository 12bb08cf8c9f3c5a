/**
 * One input record and the origin it came from, as sources hand them to the decoder.
 */

/** Where a batch of input came from, to name it in error records. */
export interface InputOrigin {
  /** A short name: a file name, `stdin`, `nats:live.m1.events`. */
  readonly name: string;
  /**
   * Whether positions name the same records across restarts (JetStream sequences): a restarted
   * process skips the events its committed context already holds.
   */
  readonly durable?: boolean;
  /**
   * The location of one record: `events.jsonl:17`, `events.json[3]`, `nats:live.m1.events#42`.
   * `streamId` is the stream the record came in on, where the origin carries several (a NATS
   * consumer of `live.*.events`).
   */
  locate(position: number, streamId?: string): string;
}

/** One input record: JSON text to parse, or a value already parsed. */
export interface InputRecord {
  /** The record's JSON text (a JSONL line, a message body). */
  readonly text?: string;
  /** The record's value, when the source parsed it or was given objects. */
  readonly value?: unknown;
  /** Its position in the origin: a line number, an index, a stream sequence. */
  readonly position: number;
  /**
   * Set when the source refused the record itself (a line over `line_max_bytes`, skipped while it
   * streamed): why, for its `invalid_event` record; `text` then holds only its start.
   */
  readonly refused?: string;
  /**
   * The stream the transport received the record on (its subject), when it binds records to
   * streams: an event naming another stream is refused, so a producer cannot write into a
   * stream it was not given.
   */
  readonly stream?: string;
}

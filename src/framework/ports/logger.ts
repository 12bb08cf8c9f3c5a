/**
 * JSON log lines: the only way the framework logs (DESIGN §6).
 */

/** The fields of a log line beside its message (DESIGN §6): where it happened, and how long it took. */
export interface LogFields {
  readonly stream?: string;
  readonly slice?: number;
  readonly crew?: string;
  /** A duration in ms. */
  readonly t_ms?: number;
  readonly [field: string]: unknown;
}

/** JSON log lines (`ts, level, msg` and the fields). The framework logs only through this. */
export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  /** A logger adding `fields` to every line. */
  child(fields: LogFields): Logger;
}

import type { ActionSink, EmittedAction, ErrorSink } from '../../framework/ports.js';
import { encodeErrorRecord, type ErrorRecord } from '../../framework/model/error-record.js';
import { JsonlSink } from './jsonl-sink.js';

/** Actions as JSON lines in a new file at `path`. */
export function fileActionSink(path: string): ActionSink {
  return JsonlSink.toFile<EmittedAction>(path, (emitted) => emitted.json);
}

/** Error records as JSON lines in a new file at `path`. */
export function fileErrorSink(path: string): ErrorSink {
  return JsonlSink.toFile<ErrorRecord>(path, encodeErrorRecord);
}

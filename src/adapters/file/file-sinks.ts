import type { ActionSink, ContextSink, EmittedAction, ErrorSink } from '../../framework/ports/sinks.js';
import { encodeErrorRecord, type ErrorRecord } from '../../framework/model/error-record.js';
import { encodeContextRecord, type ContextRecord } from '../../framework/model/context-record.js';
import { JsonlSink } from './jsonl-sink.js';

/**
 * Actions as JSON lines in a new file at `path`.
 *
 * @throws OutputError when the path is a folder or its folder does not exist
 */
export function fileActionSink(path: string): ActionSink {
  return JsonlSink.toFile<EmittedAction>(path, (emitted) => emitted.json, { what: 'actions', key: 'output, --out' });
}

/**
 * Error records as JSON lines in a new file at `path`.
 *
 * @throws OutputError when the path is a folder or its folder does not exist
 */
export function fileErrorSink(path: string): ErrorSink {
  return JsonlSink.toFile<ErrorRecord>(path, encodeErrorRecord, { what: 'error records', key: 'errors, --errors' });
}

/**
 * `__context` records as JSON lines in a new file at `path` (`context_out`, `--context-out`).
 *
 * @throws OutputError when the path is a folder or its folder does not exist
 */
export function fileContextSink(path: string): ContextSink {
  return JsonlSink.toFile<ContextRecord>(path, encodeContextRecord, { what: 'context records', key: 'context_out, --context-out' });
}

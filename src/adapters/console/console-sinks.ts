import type { ActionSink, EmittedAction, ErrorSink } from '../../framework/ports/sinks.js';
import { encodeErrorRecord, type ErrorRecord } from '../../framework/model/error-record.js';
import { JsonlSink } from '../file/jsonl-sink.js';

/** Actions as JSON lines on stdout. */
export function consoleActionSink(out: NodeJS.WritableStream = process.stdout): ActionSink {
  return new JsonlSink<EmittedAction>(out as never, (emitted) => emitted.json, false, { name: 'stdout', target: { what: 'actions', key: 'output' } });
}

/** Error records as JSON lines on stderr. */
export function consoleErrorSink(out: NodeJS.WritableStream = process.stderr): ErrorSink {
  return new JsonlSink<ErrorRecord>(out as never, encodeErrorRecord, false, { name: 'stderr', target: { what: 'error records', key: 'errors' } });
}

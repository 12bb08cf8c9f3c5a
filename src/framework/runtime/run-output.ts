import type { ErrorRecord } from '../model/error-record.js';
import type { EmittedAction } from '../ports/sinks.js';

/** Where the runtime puts what a run produces; the app buffers it and feeds the sinks. */
export interface RunOutput {
  action(action: EmittedAction): void;
  error(record: ErrorRecord): void;
}

import type { Logger } from '../ports/logger.js';
import type { RunObserver } from '../ports/run-observer.js';
import { messages } from '../messages.js';

/**
 * What the log says of a run beside its start and end: each error record at `debug` (they have
 * their own sink) and a crew disabled at `error`, with `stream`, `slice` and `crew`; each merged
 * slice at `debug` with the context's size.
 */
export function logObserver(logger: Logger): RunObserver {
  return {
    errorsSent(errors) {
      for (const { stream_id: stream, payload } of errors) {
        const fields = { stream, reason: payload.reason, ...(payload.slice !== undefined ? { slice: payload.slice } : {}), ...(payload.crew !== undefined ? { crew: payload.crew } : {}) };
        if (payload.reason === 'disabled') logger.error(fields, payload.message);
        else logger.debug(fields, payload.message);
      }
    },
    contextMerged(stream, slice, bytes) {
      logger.debug({ stream, slice, bytes }, messages.sliceMerged);
    },
  };
}

import type { InputLimits } from '../model/event.js';
import type { RunnerLimits } from '../runtime/crew-runner.js';
import type { LiveCrewConfig } from './config-schema.js';

/** Room a line needs beside its payload: `ts`, `kind`, `stream_id` and the JSON around them. */
const LINE_OVERHEAD_BYTES = 16_384;

/** What input may be, per the configuration: the limits sources and the decoder apply. */
export function inputLimits(config: LiveCrewConfig): InputLimits {
  return {
    payloadMaxBytes: config.payload_max_bytes,
    payloadMaxDepth: config.payload_max_depth,
    lineMaxBytes: config.line_max_bytes ?? config.payload_max_bytes + LINE_OVERHEAD_BYTES,
  };
}

/** What crews may hand out, per the configuration. */
export function runnerLimits(config: LiveCrewConfig): RunnerLimits {
  return {
    payloadMaxBytes: config.payload_max_bytes,
    payloadMaxDepth: config.payload_max_depth,
    maxActionsPerCall: config.max_actions_per_call,
    contextMaxBytes: config.context_max_bytes,
  };
}

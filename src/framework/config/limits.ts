import type { InputLimits } from '../model/event.js';
import { defaultLineMaxBytes } from '../model/json.js';
import type { RunnerLimits } from '../runtime/crew-runner.js';
import type { LiveCrewConfig } from './config-schema.js';

/** What input may be, per the configuration: the limits sources and the decoder apply. */
export function inputLimits(config: LiveCrewConfig): InputLimits {
  return {
    payloadMaxBytes: config.payload_max_bytes,
    payloadMaxDepth: config.payload_max_depth,
    lineMaxBytes: config.line_max_bytes ?? defaultLineMaxBytes(config.payload_max_bytes),
  };
}

/** What crews may hand out, per the configuration. */
export function runnerLimits(config: LiveCrewConfig): RunnerLimits {
  return {
    payloadMaxBytes: config.payload_max_bytes,
    payloadMaxDepth: config.payload_max_depth,
    maxActionsPerCall: config.max_actions_per_call,
    contextMaxBytes: config.context_max_bytes,
    maxInFlight: config.max_in_flight,
  };
}

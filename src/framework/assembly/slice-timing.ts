import type { LiveCrewConfig } from '../config/config-schema.js';
import type { SliceTiming } from '../scheduler/slice-target.js';

/**
 * The slicing knobs of a configuration. `liveRate` is set in live mode (and for a paced replay);
 * the wall-clock guard `max_future_ms` applies to live input only, never to a replay of recorded
 * events.
 */
export function sliceTiming(config: LiveCrewConfig, liveRate: number | undefined): SliceTiming {
  return {
    sliceMs: config.slice_ms,
    latenessMs: config.lateness_ms,
    ...(liveRate !== undefined ? { liveRate } : {}),
    ...(config.max_jump_ms !== null ? { maxJumpMs: config.max_jump_ms } : {}),
    ...(config.max_future_ms !== null && config.mode === 'live' && config.pace === null ? { maxFutureMs: config.max_future_ms } : {}),
    ...(config.stream_idle_ms !== null ? { streamIdleMs: config.stream_idle_ms } : {}),
  };
}

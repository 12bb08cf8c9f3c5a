import { z } from 'zod';
import { durationMs, MAX_TIMER_MS } from '../config/durations.js';
import type { BacklogPolicy, WaitPolicy } from './crew-definition.js';

/** A model's name in `models:`. */
export const MODEL_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

const positiveInt = z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).positive({ error: 'must be > 0' });

/** The largest heap an isolated crew may be given, in MiB (1 TiB). */
const MAX_MEMORY_MB = 1_048_576;

/** The most slices a crew may lag: each lagged slice keeps its writes in memory until it merges. */
const MAX_LAG = 1000;

const WAIT_POLICY_FORMAT = `must be 'all', 'any', 'none' or 'timeout:<ms>' (ms an integer from 1 to ${MAX_TIMER_MS})`;

/**
 * The per-crew knobs of DESIGN §4, as `@Crew({...})` and `<crew_id>.runtime.yaml` both give
 * them: one vocabulary, one set of rules.
 */
const crewKnobsShape = {
  maxErrors: positiveInt,
  waitPolicy: z.union(
    [
      z.enum(['all', 'any', 'none']),
      z.templateLiteral(['timeout:', z.number()]).refine((policy) => /^timeout:[1-9]\d*$/.test(policy) && Number(policy.slice(8)) <= MAX_TIMER_MS, { error: WAIT_POLICY_FORMAT }),
    ],
    { error: WAIT_POLICY_FORMAT },
  ),
  sliceStride: positiveInt,
  backlogPolicy: z.enum(['fifo', 'latest']),
  timeoutMs: durationMs(1),
  lag: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be >= 0' })
    .max(MAX_LAG, { error: `must be at most ${MAX_LAG}` }),
  concurrency: positiveInt,
  isolation: z.enum(['none', 'worker', 'process']),
  memoryLimitMb: positiveInt.max(MAX_MEMORY_MB, { error: `must be at most ${MAX_MEMORY_MB}` }),
  maxTokensPerSlice: positiveInt,
  maxCallsPerMinute: positiveInt,
  model: z.string({ error: 'must be a model name from models:' }).regex(MODEL_NAME_PATTERN, { error: 'must be a model name from models: (a letter, then letters, digits, _ or -)' }),
} as const;

/** Knobs a source sets; the rest come from a lower source or the defaults. */
export type CrewKnobs = Partial<{ -readonly [K in keyof typeof crewKnobsShape]: z.infer<(typeof crewKnobsShape)[K]> }>;

/** Every knob resolved (`timeoutMs` undefined means no limit). */
export interface ResolvedKnobs {
  readonly maxErrors: number;
  readonly waitPolicy: WaitPolicy;
  readonly sliceStride: number;
  readonly backlogPolicy: BacklogPolicy;
  readonly timeoutMs: number | undefined;
  /** Its writes of slice n merge at the close of slice n + lag. */
  readonly lag: number;
  /** The most calls it has in flight across streams; undefined for no cap. */
  readonly concurrency: number | undefined;
  /** Where it runs; undefined: the config's `isolation`. */
  readonly isolation: Isolation | undefined;
  /** The heap limit of its worker or child process, in MiB; undefined: Node's default. */
  readonly memoryLimitMb: number | undefined;
  /** The most model tokens (input + output) its calls of one slice of a stream may use; undefined: no cap. */
  readonly maxTokensPerSlice: number | undefined;
  /** The most model calls it may start in any minute of wall time, across streams; undefined: no cap. */
  readonly maxCallsPerMinute: number | undefined;
  /** The model `ctx.model()` gives without a name; undefined: the only one configured, or `default`. */
  readonly model: string | undefined;
}

/**
 * The knobs a running crew can take new values of (`run --watch` reloading its runtime file):
 * those read per call. The rest shape the graph and schedule, and wait for a restart.
 */
export const RELOADABLE_KNOBS = ['timeoutMs', 'maxErrors', 'maxTokensPerSlice', 'maxCallsPerMinute', 'model'] as const;

/** The reloadable knobs' values. */
export type ReloadableKnobs = Pick<ResolvedKnobs, (typeof RELOADABLE_KNOBS)[number]>;

/** The reloadable knobs of a crew's knobs. */
export function reloadableKnobsOf(knobs: ReloadableKnobs): ReloadableKnobs {
  return Object.fromEntries(RELOADABLE_KNOBS.map((knob) => [knob, knobs[knob]])) as unknown as ReloadableKnobs;
}

/** Where a crew runs: in the app's process, a worker thread, or a child process. */
export type Isolation = 'none' | 'worker' | 'process';

/** The knobs of a crew that sets none. */
export const KNOB_DEFAULTS: ResolvedKnobs = {
  maxErrors: 3,
  waitPolicy: 'all',
  sliceStride: 1,
  backlogPolicy: 'fifo',
  timeoutMs: undefined,
  lag: 0,
  concurrency: undefined,
  isolation: undefined,
  memoryLimitMb: undefined,
  maxTokensPerSlice: undefined,
  maxCallsPerMinute: undefined,
  model: undefined,
};

/** A source of knobs: a strict partial object, so an unknown knob is an error. */
export const CrewKnobsSchema = z.strictObject(crewKnobsShape).partial();

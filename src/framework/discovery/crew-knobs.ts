import { z } from 'zod';
import { durationMs, MAX_TIMER_MS } from '../config/durations.js';

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
  /** Handler errors in a row after which the crew is disabled for the stream. */
  maxErrors: positiveInt,
  /**
   * When a crew with dependencies runs a slice: all met, any met, regardless (order only), or
   * `timeout:<ms>`: with what is met once `ms` of wall time have passed.
   */
  waitPolicy: z.union(
    [
      z.enum(['all', 'any', 'none']),
      z.templateLiteral(['timeout:', z.number()]).refine((policy) => /^timeout:[1-9]\d*$/.test(policy) && Number(policy.slice(8)) <= MAX_TIMER_MS, { error: WAIT_POLICY_FORMAT }),
    ],
    { error: WAIT_POLICY_FORMAT },
  ),
  /** Runs on slices n with n % sliceStride == 0; events of the slices between wait for the next. */
  sliceStride: positiveInt,
  /** What a crew gets of a backlog (events delivered together): all in order, or the newest per kind. */
  backlogPolicy: z.enum(['fifo', 'latest']),
  /** The longest a handler call may take, in ms; undefined for no limit. */
  timeoutMs: durationMs(1),
  /** Its writes of slice n merge at the close of slice n + lag (DESIGN §8); 0 by default. */
  lag: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be >= 0' })
    .max(MAX_LAG, { error: `must be at most ${MAX_LAG}` }),
  /** The most calls it has in flight at once across streams; undefined for one per stream, no cap. */
  concurrency: positiveInt,
  /** Where it runs (DESIGN §8): the app's process, a worker thread, or a child process; undefined: the config's `isolation`. */
  isolation: z.enum(['none', 'worker', 'process']),
  /** The heap limit of its worker or child process, in MiB; undefined: Node's default. */
  memoryLimitMb: positiveInt.max(MAX_MEMORY_MB, { error: `must be at most ${MAX_MEMORY_MB}` }),
  /** The most model tokens (input + output) its calls of one slice of a stream may use; undefined: no cap. */
  maxTokensPerSlice: positiveInt,
  /** The most model calls it may start in any minute of wall time, across streams; undefined: no cap. */
  maxCallsPerMinute: positiveInt,
  /** The model `ctx.model()` gives without a name; undefined: the only one configured, or `default`. */
  model: z.string({ error: 'must be a model name from models:' }).regex(MODEL_NAME_PATTERN, { error: 'must be a model name from models: (a letter, then letters, digits, _ or -)' }),
} as const;

type Knobs = { -readonly [K in keyof typeof crewKnobsShape]: z.infer<(typeof crewKnobsShape)[K]> };

/** Knobs a source sets; the rest come from a lower source or the defaults. */
export type CrewKnobs = Partial<Knobs>;

/** When a crew with dependencies runs a slice (see `waitPolicy`). */
export type WaitPolicy = Knobs['waitPolicy'];

/** What a crew gets of a backlog (see `backlogPolicy`). */
export type BacklogPolicy = Knobs['backlogPolicy'];

/** Where a crew runs: in the app's process, a worker thread, or a child process. */
export type Isolation = Knobs['isolation'];

/** The knobs of a crew that sets none; undefined where a knob's absence means "no limit" or "the config's". */
export const KNOB_DEFAULTS = {
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
} satisfies { [K in keyof Knobs]: Knobs[K] | undefined };

/** Every knob resolved: those whose default is undefined may stay so. */
export type ResolvedKnobs = { readonly [K in keyof Knobs]: Knobs[K] | (undefined extends (typeof KNOB_DEFAULTS)[K] ? undefined : never) };

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

/** A source of knobs: a strict partial object, so an unknown knob is an error. */
export const CrewKnobsSchema = z.strictObject(crewKnobsShape).partial();

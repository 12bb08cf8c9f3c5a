import { z } from 'zod';
import { parseDependency, type Dependency } from '../model/dependency.js';
import { KindSchema } from '../model/event.js';
import { CrewKnobsSchema, type CrewKnobs } from './crew-knobs.js';

/**
 * The original spec's snake_case spelling of each crew knob, as `<crew>.runtime.yaml` and
 * `<id>.crew.yaml` take it (`@Crew` and runtime files also take the camelCase one).
 */
export const SNAKE_CASE_KNOBS = {
  max_errors: 'maxErrors',
  wait_policy: 'waitPolicy',
  slice_stride: 'sliceStride',
  backlog_policy: 'backlogPolicy',
  timeout_ms: 'timeoutMs',
  lag: 'lag',
  concurrency: 'concurrency',
  isolation: 'isolation',
  memory_limit_mb: 'memoryLimitMb',
  max_tokens_per_slice: 'maxTokensPerSlice',
  max_calls_per_minute: 'maxCallsPerMinute',
  model: 'model',
} as const satisfies Record<string, keyof CrewKnobs>;

type SnakeKnob = keyof typeof SNAKE_CASE_KNOBS;

/** The knobs under their snake_case names, each with its camelCase twin's rules. */
export const snakeKnobsShape = Object.fromEntries(Object.entries(SNAKE_CASE_KNOBS).map(([snake, camel]) => [snake, CrewKnobsSchema.shape[camel]])) as {
  [K in SnakeKnob]: (typeof CrewKnobsSchema.shape)[(typeof SNAKE_CASE_KNOBS)[K]];
};

/** The knobs of checked data holding snake_case and/or camelCase knob keys, in camelCase (other keys left out). */
export function knobsOf(data: Readonly<Record<string, unknown>>): CrewKnobs {
  const knobs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    if (key in SNAKE_CASE_KNOBS) knobs[SNAKE_CASE_KNOBS[key as SnakeKnob]] = value;
    else if (key in CrewKnobsSchema.shape) knobs[key] = value;
  }
  return knobs as CrewKnobs;
}

/** Snake_case and camelCase keys of the same knob in one file: ambiguous, refused. */
export function knobSpelledTwice(data: Readonly<Record<string, unknown>>): string | undefined {
  const twice = Object.entries(SNAKE_CASE_KNOBS).find(([snake, camel]) => snake !== camel && data[snake] !== undefined && data[camel] !== undefined);
  return twice && `${twice[0]} and ${twice[1]} set the same knob: keep one`;
}

/** `triggers`: the event kinds that call the crew, `'*'` for every kind. */
export const TriggersSchema = z
  .union([z.literal('*'), KindSchema, z.array(KindSchema, { error: 'must be a kind, a list of kinds, or "*"' }).min(1, { error: 'must name at least one kind' })], {
    error: 'must be a kind, a list of kinds, or "*"',
  })
  .transform((triggers): '*' | string[] => (triggers === '*' ? '*' : typeof triggers === 'string' ? [triggers] : [...new Set(triggers)]));

/** `needs`: the crew's dependencies, as `@DependsOn` takes them (`{ crew, offset? }` or `{ event, offset? }`). */
export const NeedsSchema = z.array(z.unknown(), { error: 'must be a list of { crew, offset? } or { event, offset? }' }).transform((items, context) =>
  items.flatMap((item, index): Dependency[] => {
    const parsed = parseDependency(item);
    if (parsed.success) return [parsed.data];
    for (const issue of parsed.error.issues) context.addIssue({ code: 'custom', message: issue.message, path: [index, ...issue.path], input: issue.input });
    return [];
  }),
);

/** What a runtime file may set beside knobs: the spec's `triggers` and `needs`. */
export interface CrewWiring {
  readonly triggers?: '*' | readonly string[];
  readonly needs?: readonly Dependency[];
}

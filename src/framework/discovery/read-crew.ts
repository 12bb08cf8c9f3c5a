import { z } from 'zod';
import { CREW_METADATA, DEPENDENCIES_METADATA, HANDLERS_METADATA } from '../decorators/metadata-keys.js';
import type { HandlerMetadata } from '../decorators/on-event.js';
import { describeIssues } from '../model/event.js';
import { CrewIdSchema, parseDependency, type Dependency } from '../model/dependency.js';
import { isUserKind, KIND_PATTERN } from '../model/patterns.js';
import { messages } from '../messages.js';
import type { CrewClass, CrewDefinition, HandlerDefinition, HandlerTrigger } from './crew-definition.js';

/** The default of `maxErrors`. */
export const DEFAULT_MAX_ERRORS = 3;

const positiveInt = z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).positive({ error: 'must be > 0' });

const CrewOptionsSchema = z.strictObject({
  id: CrewIdSchema,
  maxErrors: positiveInt.default(DEFAULT_MAX_ERRORS),
  waitPolicy: z.enum(['all', 'any', 'none']).default('all'),
  sliceStride: positiveInt.default(1),
  backlogPolicy: z.enum(['fifo', 'latest']).default('fifo'),
  timeoutMs: positiveInt.optional(),
});

/** A crew read from its metadata, or the problems that make it invalid. */
export type ReadResult = { readonly crew: CrewDefinition; readonly problems: readonly string[] };

/**
 * Reads one class's decorator metadata into a `CrewDefinition`, collecting every problem
 * instead of stopping at the first, so a user fixes them all in one go.
 */
export function readCrew(type: CrewClass): ReadResult | { readonly crew?: undefined; readonly problems: readonly string[] } {
  const className = type.name || '(anonymous class)';
  const options: unknown = Reflect.getOwnMetadata(CREW_METADATA, type);
  if (options === undefined) return { problems: [messages.notACrew(className)] };

  const problems: string[] = [];
  const parsed = CrewOptionsSchema.safeParse(options, { reportInput: true });
  if (!parsed.success) problems.push(messages.crewOptions(className, describeIssues(parsed.error)));
  const id = parsed.success ? parsed.data.id : String((options as { id?: unknown }).id);

  const problemsBefore = problems.length;
  const handlers = readHandlers(type, id, problems);
  if (handlers.length === 0 && problems.length === problemsBefore) problems.push(messages.noHandlers(id, className));
  const dependencies = readDependencies(type, id, problems);

  // An invalid crew is still returned (with defaults), so the graph checks can report on it too.
  const { maxErrors, waitPolicy, sliceStride, backlogPolicy, timeoutMs } = parsed.success ? parsed.data : CrewOptionsSchema.parse({ id: 'x' });
  const crew: CrewDefinition = { id, type, className, handlers, dependencies, maxErrors, waitPolicy, sliceStride, backlogPolicy, timeoutMs };
  return { crew, problems };
}

function readHandlers(type: CrewClass, id: string, problems: string[]): HandlerDefinition[] {
  const records: readonly HandlerMetadata[] = Reflect.getMetadata(HANDLERS_METADATA, type) ?? [];
  const handlers: HandlerDefinition[] = [];
  for (const record of records) {
    if (typeof (type.prototype as Record<string, unknown>)[record.method] !== 'function') {
      problems.push(messages.handlerNotMethod(id, record.method));
      continue;
    }
    const trigger = readTrigger(record.kinds);
    if (typeof trigger === 'string') {
      problems.push(messages.handlerOptions(id, record.method, trigger));
      continue;
    }
    handlers.push({ method: record.method, trigger, ...(record.payload ? { payload: record.payload } : {}) });
  }
  return handlers;
}

/** The trigger of `@OnEvent(kinds)`, or what is wrong with `kinds`. */
function readTrigger(kinds: unknown): HandlerTrigger | string {
  if (kinds === '*') return { any: true };
  const list = typeof kinds === 'string' ? [kinds] : kinds;
  if (!Array.isArray(list)) return `kinds must be a kind, a list of kinds, or '*' (got ${typeof kinds})`;
  if (list.length === 0) return 'names no kind; give at least one, or \'*\' for every kind';
  if (list.includes('*')) return "'*' already means every kind: use it alone";
  const bad = list.filter((kind) => typeof kind !== 'string' || !isUserKind(kind));
  if (bad.length > 0) {
    return `invalid kind(s) ${bad.map((k) => JSON.stringify(k)).join(', ')}: kinds match ${KIND_PATTERN.source} and do not start with "__"`;
  }
  return { any: false, kinds: [...new Set(list as string[])] };
}

function readDependencies(type: CrewClass, id: string, problems: string[]): Dependency[] {
  const inputs: readonly unknown[] = Reflect.getMetadata(DEPENDENCIES_METADATA, type) ?? [];
  const dependencies: Dependency[] = [];
  inputs.forEach((input, index) => {
    const parsed = parseDependency(input);
    if (parsed.success) dependencies.push(parsed.data);
    else problems.push(messages.dependencyInvalid(id, `[${index}] ${describeIssues(parsed.error)}`));
  });
  return dependencies;
}

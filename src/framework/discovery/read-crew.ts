import { z } from 'zod';
import { CREW_METADATA, DEPENDENCIES_METADATA, HANDLERS_METADATA, INTERCEPTORS_METADATA } from '../decorators/metadata-keys.js';
import type { InterceptorRef } from '../ports/interceptor.js';
import type { HandlerMetadata } from '../decorators/on-event.js';
import { describeIssues } from '../model/event.js';
import { CrewIdSchema, parseDependency, type Dependency } from '../model/dependency.js';
import { isUserKind, KIND_PATTERN } from '../model/patterns.js';
import { messages } from '../messages.js';
import type { CrewClass, CrewDefinition, HandlerDefinition, HandlerTrigger } from './crew-definition.js';
import { CrewKnobsSchema, KNOB_DEFAULTS, type CrewKnobs } from './crew-knobs.js';
import type { CrewWiring } from './crew-spec-keys.js';

const CrewOptionsSchema = z.strictObject({ id: CrewIdSchema, ...CrewKnobsSchema.shape });

/** True for a class decorated with `@Crew` itself (not only through a parent). */
export function isCrewClass(value: unknown): value is CrewClass {
  return typeof value === 'function' && Reflect.hasOwnMetadata(CREW_METADATA, value);
}

/** The id a `@Crew` class declares, if it declares a string one (checked later by `readCrew`). */
export function declaredCrewId(type: CrewClass): string | undefined {
  const id: unknown = (Reflect.getOwnMetadata(CREW_METADATA, type) as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** What a `<crew_id>.runtime.yaml` sets: knobs, and the spec's `triggers` and `needs`. */
export type CrewOverrides = CrewKnobs & CrewWiring;

/** A crew read from its metadata, or the problems that make it invalid. */
export type ReadResult = { readonly crew: CrewDefinition; readonly problems: readonly string[] };

/**
 * Reads one class's decorator metadata into a `CrewDefinition`, collecting every problem
 * instead of stopping at the first, so a user fixes them all in one go. Knobs resolve as
 * defaults < `@Crew` options < `overrides` (a checked `<crew_id>.runtime.yaml`).
 */
export function readCrew(type: CrewClass, overrides: (id: string) => CrewOverrides = () => ({})): ReadResult | { readonly crew?: undefined; readonly problems: readonly string[] } {
  const className = type.name || '(anonymous class)';
  const options: unknown = Reflect.getOwnMetadata(CREW_METADATA, type);
  if (options === undefined) return { problems: [messages.notACrew(className)] };

  const problems: string[] = [];
  const parsed = CrewOptionsSchema.safeParse(options, { reportInput: true });
  if (!parsed.success) problems.push(messages.crewOptions(className, describeIssues(parsed.error)));
  const id = parsed.success ? parsed.data.id : String((options as { id?: unknown }).id);

  const problemsBefore = problems.length;
  const { triggers, needs, ...overridden } = overrides(id);
  const handlers = withTriggers(readHandlers(type, id, problems), triggers, id, problems);
  if (handlers.length === 0 && problems.length === problemsBefore) problems.push(messages.noHandlers(id, className));
  const dependencies = needs !== undefined ? [...needs] : readDependencies(type, id, problems);

  // An invalid crew is still returned (with defaults), so the graph checks can report on it too.
  const { id: _id, ...decoratorKnobs } = parsed.success ? parsed.data : { id };
  const knobs = { ...KNOB_DEFAULTS, ...decoratorKnobs, ...overridden };
  if (type.length > 0 && Reflect.getMetadata('design:paramtypes', type) === undefined) problems.push(messages.missingParamTypes(className, type.length));
  const crew: CrewDefinition = { id, type, className, handlers, dependencies, interceptors: declaredInterceptors(type), ...knobs };
  return { crew, problems };
}

/** The `@UseInterceptors` of a class, or of one of its methods. */
function declaredInterceptors(target: object, method?: string): readonly InterceptorRef[] {
  return Reflect.getOwnMetadata(INTERCEPTORS_METADATA, target, method as string) ?? [];
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
    const interceptors = declaredInterceptors(type.prototype as object, record.method);
    handlers.push({ method: record.method, trigger, interceptors, ...(record.payload ? { payload: record.payload } : {}) });
  }
  return handlers;
}

/**
 * The handlers with a runtime file's `triggers` applied: they replace the trigger of a crew's
 * only handler; a crew with several handlers must list the kinds they already have.
 */
function withTriggers(handlers: HandlerDefinition[], triggers: CrewWiring['triggers'], id: string, problems: string[]): HandlerDefinition[] {
  if (triggers === undefined || handlers.length === 0) return handlers;
  const trigger: HandlerTrigger = triggers === '*' ? { any: true } : { any: false, kinds: triggers };
  if (handlers.length === 1) return [{ ...handlers[0]!, trigger }];
  const declared = handlers.some((handler) => handler.trigger.any) ? '*' : [...new Set(handlers.flatMap((handler) => (handler.trigger.any ? [] : handler.trigger.kinds)))].sort().join(',');
  const given = triggers === '*' ? '*' : [...triggers].sort().join(',');
  if (declared !== given) problems.push(messages.triggersMismatch(id, declared, given));
  return handlers;
}

/** The trigger of `@OnEvent(kinds)`, or what is wrong with `kinds`. */
function readTrigger(kinds: unknown): HandlerTrigger | string {
  if (kinds === '*') return { any: true };
  const list = typeof kinds === 'string' ? [kinds] : kinds;
  if (!Array.isArray(list)) return `kinds must be a kind, a list of kinds, or '*' (got ${typeof kinds})`;
  if (list.length === 0) return "names no kind; give at least one, or '*' for every kind";
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

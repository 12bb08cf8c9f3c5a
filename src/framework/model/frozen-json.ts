import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';

/** Keys that would reach an object's prototype when a consumer merges the value naively. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The longest context key. */
export const MAX_CONTEXT_KEY_LENGTH = 256;

/**
 * The default deepest nesting of arrays and objects in a payload or context value
 * (`payload_max_depth`). Deeper values would overflow the stack of every recursive JSON tool
 * (`JSON.stringify` fails near 2,000 levels), so they are refused before anything recurses.
 */
export const DEFAULT_MAX_DEPTH = 64;

/**
 * Checks a context key: a non-empty string, not a prototype key.
 *
 * @throws HandlerOutputError naming the key
 */
export function checkContextKey(key: unknown): asserts key is string {
  const problem = contextKeyProblem(key);
  if (problem !== undefined) throw new HandlerOutputError(problem);
}

/** What is wrong with a context key (made by a crew, or read from a report on the wire), or undefined when nothing is. */
export function contextKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_CONTEXT_KEY_LENGTH) return messages.contextKeyInvalid(key, MAX_CONTEXT_KEY_LENGTH);
  return FORBIDDEN_KEYS.has(key) ? messages.contextKeyForbidden(key) : undefined;
}

/** Where a value goes, for messages: `context.set("score")`, `emit "goal"`, an event's payload. */
export type JsonDestination = keyof typeof DESTINATIONS;

/** Per destination: how a refusal names the call, the value, and what such values are. */
const DESTINATIONS = {
  'context.set': (name: string) => ({ where: `context.set("${name}"): `, value: 'value', noun: 'context values' }),
  emit: (name: string) => ({ where: `emit "${name}": `, value: 'payload', noun: 'action payloads' }),
  event: () => ({ where: '', value: 'payload', noun: 'event payloads' }),
  upsert: (name: string) => ({ where: `vectors("${name}").upsert: `, value: 'payload', noun: 'point payloads' }),
} as const;

/**
 * A deep, frozen copy of a JSON value, so what a crew stores or emits can be neither changed later
 * through the object it passed nor changed by anyone who reads it. Anything a JSON backend could
 * not give back unchanged is refused: functions, symbols, bigints, `undefined`, NaN and Infinity,
 * cycles, prototype keys, objects that are not plain (a Date, a Map, a class instance), and
 * nesting deeper than `maxDepth`.
 *
 * @param value - the value to copy
 * @param to - where it goes, and `name` the key or kind, to name in messages
 * @param maxDepth - the deepest nesting of arrays and objects allowed
 * @throws HandlerOutputError naming the path of the first offending part
 */
export function frozenJsonCopy(value: unknown, to: JsonDestination, name: string, maxDepth = DEFAULT_MAX_DEPTH): unknown {
  if (typeof value !== 'object' || value === null) {
    if (isJsonPrimitive(value)) return value;
  } else {
    const copy = quickCopy(value, 1, maxDepth);
    if (copy !== REFUSED) return copy;
  }
  throw refusalOf(value, to, name, maxDepth);
}

/**
 * Checks what `frozenJsonCopy` checks, without copying: for a value that is serialised at once
 * and not kept (an action payload), so `JSON.stringify` can neither drop nor change anything.
 *
 * @throws HandlerOutputError naming the path of the first offending part
 */
export function checkJson(value: unknown, to: JsonDestination, name: string, maxDepth = DEFAULT_MAX_DEPTH): void {
  if (typeof value !== 'object' || value === null ? isJsonPrimitive(value) : quickCheck(value, 1, maxDepth)) return;
  throw refusalOf(value, to, name, maxDepth);
}

/** Something is wrong with a value: walks it again, keeping the path, to say what and where. */
function refusalOf(value: unknown, to: JsonDestination, name: string, maxDepth: number): HandlerOutputError {
  const walk: Walk = { path: [], ancestors: new Set(), maxDepth, copy: true, tooDeep: messages.jsonTooDeep(maxDepth) };
  try {
    walkValue(value, walk, 0);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const { where, value: root, noun } = DESTINATIONS[to](name);
    return new HandlerOutputError(messages.jsonValueRefused(where, `${root}${showWalkPath(walk.path)}`, error.what, noun));
  }
  throw new TypeError('refusalOf called on an acceptable value');
}

/**
 * Freezes a value `JSON.parse` made, in place, and checks what parsing lets through: nesting
 * deeper than `maxDepth`, and numbers that overflowed to Infinity (`1e400`). Parsed input holds
 * only plain objects, arrays and primitives, so nothing else needs looking at.
 *
 * @param tooDeep - what a value nested deeper is, in a refusal
 * @returns undefined when the value is acceptable, else what is wrong and where (`payload.a[2]: ...`)
 */
export function freezeParsedJson(value: unknown, maxDepth: number, name: string, tooDeep = messages.jsonTooDeep(maxDepth)): string | undefined {
  if (typeof value !== 'object' || value === null ? isJsonPrimitive(value) : quickFreeze(value, 1, maxDepth)) return undefined;
  const walk: Walk = { path: [], ancestors: undefined, maxDepth, copy: false, tooDeep };
  try {
    walkValue(value, walk, 0);
    return undefined;
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return `${name}${showWalkPath(walk.path)} is ${error.what}`;
  }
}

/**
 * Deeply freezes, in place, a JSON value taken in from outside and checked there (a backend's
 * snapshot, a runner's base, an isolate's view). A frozen object is not walked again: whatever
 * this module freezes, it freezes all through.
 */
export function freezeJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) for (const item of value) freezeJson(item);
  else for (const name in value) freezeJson((value as Record<string, unknown>)[name]);
  return Object.freeze(value);
}

/** What `quickCopy` returns for a value it refuses; the tracking walk then says why. */
const REFUSED: unique symbol = Symbol('refused');

function isJsonPrimitive(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * The common case of `frozenJsonCopy`, kept lean for the hot path (every emit and context write):
 * no path is tracked, and anything amiss gives up with `REFUSED`.
 */
function quickCopy(value: object, depth: number, maxDepth: number): unknown {
  // A cycle runs into the depth limit, and the tracking walk then names it.
  if (depth > maxDepth) return REFUSED;
  let out: unknown[] | Record<string, unknown>;
  if (Array.isArray(value)) {
    out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const inner = quickCopyValue(value[i], depth, maxDepth);
      if (inner === REFUSED) return REFUSED;
      out[i] = inner;
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return REFUSED;
    out = {};
    for (const name in value) {
      if (!Object.hasOwn(value, name)) continue;
      if (FORBIDDEN_KEYS.has(name)) return REFUSED;
      const inner = quickCopyValue((value as Record<string, unknown>)[name], depth, maxDepth);
      if (inner === REFUSED) return REFUSED;
      out[name] = inner;
    }
  }
  return Object.freeze(out);
}

function quickCopyValue(value: unknown, depth: number, maxDepth: number): unknown {
  if (typeof value === 'object' && value !== null) return quickCopy(value, depth + 1, maxDepth);
  return isJsonPrimitive(value) ? value : REFUSED;
}

/** The common case of `checkJson`: true when the value is plain JSON within the depth (a cycle runs into it). */
function quickCheck(value: object, depth: number, maxDepth: number): boolean {
  if (depth > maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!quickCheckValue(value[i], depth, maxDepth)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    if (FORBIDDEN_KEYS.has(name) || !quickCheckValue((value as Record<string, unknown>)[name], depth, maxDepth)) return false;
  }
  return true;
}

function quickCheckValue(value: unknown, depth: number, maxDepth: number): boolean {
  return typeof value === 'object' && value !== null ? quickCheck(value, depth + 1, maxDepth) : isJsonPrimitive(value);
}

/** The common case of `freezeParsedJson`: true when the value is fine (and now frozen). */
function quickFreeze(value: object, depth: number, maxDepth: number): boolean {
  if (depth > maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!quickFreezeValue(value[i], depth, maxDepth)) return false;
  } else {
    for (const name in value) if (!quickFreezeValue((value as Record<string, unknown>)[name], depth, maxDepth)) return false;
  }
  Object.freeze(value);
  return true;
}

function quickFreezeValue(value: unknown, depth: number, maxDepth: number): boolean {
  if (typeof value === 'object' && value !== null) return quickFreeze(value, depth + 1, maxDepth);
  return typeof value !== 'number' || Number.isFinite(value);
}

/** Thrown inside a walk; the entry point turns it into its own kind of message. */
class Refusal {
  constructor(readonly what: string) {}
}

/** Where the walk is: segments are pushed and popped, and only a refusal turns them into text. */
interface Walk {
  readonly path: Array<string | number>;
  /** The objects above the current one (cycle check), or undefined for parsed JSON (no cycles). */
  readonly ancestors: Set<object> | undefined;
  readonly maxDepth: number;
  /** Copy (values from code) or freeze in place (values `JSON.parse` just made). */
  readonly copy: boolean;
  /** What a value nested past `maxDepth` is, in a refusal. */
  readonly tooDeep: string;
}

function walkValue(value: unknown, walk: Walk, depth: number): unknown {
  if (typeof value === 'object' && value !== null) return walkObject(value, walk, depth + 1);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new Refusal(describe(value));
}

/** What a non-JSON primitive is, for a message: `NaN`, `Infinity`, `undefined`, `a function`. */
function describe(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `${value} (a number out of range)`;
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

function walkObject(value: object, walk: Walk, depth: number): unknown {
  if (depth > walk.maxDepth) throw new Refusal(walk.tooDeep);
  const { ancestors } = walk;
  if (ancestors !== undefined) {
    if (ancestors.has(value)) throw new Refusal('a reference to itself (a cycle)');
    ancestors.add(value);
  }
  const result = Array.isArray(value) ? walkArray(value, walk, depth) : walkRecord(value, walk, depth);
  ancestors?.delete(value);
  return Object.freeze(result);
}

function walkArray(value: unknown[], walk: Walk, depth: number): unknown[] {
  const out = walk.copy ? new Array<unknown>(value.length) : value;
  for (let i = 0; i < value.length; i++) {
    walk.path.push(i);
    out[i] = walkValue(value[i], walk, depth);
    walk.path.pop();
  }
  return out;
}

function walkRecord(value: object, walk: Walk, depth: number): object {
  if (walk.copy) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new Refusal(`a ${constructorName(value)} object`);
  }
  const out: Record<string, unknown> = walk.copy ? {} : (value as Record<string, unknown>);
  for (const name of Object.keys(value)) {
    walk.path.push(name);
    if (walk.copy && FORBIDDEN_KEYS.has(name)) throw new Refusal('a prototype key');
    const inner = walkValue((value as Record<string, unknown>)[name], walk, depth);
    if (walk.copy) out[name] = inner;
    walk.path.pop();
  }
  return out;
}

/** The name of a value's class, read without trusting it (a getter may throw). */
function constructorName(value: object): string {
  try {
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name.length > 0 ? name : 'non-plain';
  } catch {
    return 'non-plain';
  }
}

function showWalkPath(path: ReadonlyArray<string | number>): string {
  return path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
}

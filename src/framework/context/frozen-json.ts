import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';

/** Keys that would reach an object's prototype when a consumer merges the value naively. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The longest context key. */
export const MAX_CONTEXT_KEY_LENGTH = 256;

/**
 * Checks a context key: a non-empty string, not a prototype key.
 *
 * @throws HandlerOutputError naming the key
 */
export function checkContextKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_CONTEXT_KEY_LENGTH) {
    throw new HandlerOutputError(messages.contextKeyInvalid(key, MAX_CONTEXT_KEY_LENGTH));
  }
  if (FORBIDDEN_KEYS.has(key)) throw new HandlerOutputError(messages.contextKeyForbidden(key));
}

/**
 * A deep, frozen copy of a JSON value, so what a crew stores can be neither changed later through
 * the object it passed nor changed by anyone who reads it. Anything a JSON backend could not
 * give back unchanged is refused: functions, symbols, bigints, `undefined`, NaN and Infinity,
 * cycles, prototype keys, and objects that are not plain (a Date, a Map, a class instance).
 *
 * @param value - the value to copy
 * @param key - the context key it is stored under, to name in messages
 * @throws HandlerOutputError naming the path of the first offending part
 */
export function frozenJsonCopy(value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null) return copyObject(value, { key, path: [], ancestors: new Set() });
  if (isJsonPrimitive(value)) return value;
  throw refuse({ key, path: [], ancestors: new Set() }, describe(value));
}

/** Where the walk is: segments are pushed and popped, and only a refusal turns them into text. */
interface Walk {
  readonly key: string;
  readonly path: Array<string | number>;
  readonly ancestors: Set<object>;
}

function copyValue(value: unknown, walk: Walk): unknown {
  if (typeof value === 'object' && value !== null) return copyObject(value, walk);
  if (isJsonPrimitive(value)) return value;
  throw refuse(walk, describe(value));
}

function isJsonPrimitive(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** What a non-JSON primitive is, for a message: `NaN`, `Infinity`, `undefined`, `a function`. */
function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

function copyObject(value: object, walk: Walk): unknown {
  if (walk.ancestors.has(value)) throw refuse(walk, 'a reference to itself (a cycle)');
  walk.ancestors.add(value);
  let result: unknown;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      walk.path.push(i);
      out[i] = copyValue(value[i], walk);
      walk.path.pop();
    }
    result = Object.freeze(out);
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw refuse(walk, `a ${value.constructor?.name ?? 'non-plain'} object`);
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(value)) {
      walk.path.push(name);
      if (FORBIDDEN_KEYS.has(name)) throw refuse(walk, 'a prototype key');
      out[name] = copyValue((value as Record<string, unknown>)[name], walk);
      walk.path.pop();
    }
    result = Object.freeze(out);
  }
  walk.ancestors.delete(value);
  return result;
}

function refuse(walk: Walk, what: string): HandlerOutputError {
  const path = walk.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
  return new HandlerOutputError(messages.contextValueNotJson(`context.set("${walk.key}")`, `value${path}`, what));
}

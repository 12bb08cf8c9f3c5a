import type { MaybePromise } from './ports/maybe-promise.js';

/** True when a value is a promise (or any thenable) to wait for. */
export function isPromiseLike<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

/**
 * Runs `step(0) … step(count - 1)` one after another. Steps that finish at once run in a plain
 * loop; the first step that returns a promise turns the rest into a chain. The hot path (every
 * handler synchronous) thereby never allocates a promise.
 */
export function runInOrder(count: number, step: (index: number) => MaybePromise<void>, from = 0): MaybePromise<void> {
  for (let i = from; i < count; i++) {
    const result = step(i);
    if (isPromiseLike(result)) return result.then(() => runInOrder(count, step, i + 1));
  }
}

/** `then` that stays synchronous for a synchronous value. */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromiseLike(value) ? value.then(next) : next(value);
}

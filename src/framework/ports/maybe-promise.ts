/**
 * Methods that may complete at once return `T | Promise<T>`, so in-process adapters cost no promise per call.
 */

/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>;

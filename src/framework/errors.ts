/**
 * The error classes live-crew throws. Every failure at start-up is one of these, so callers can
 * tell a bad config from a bad crew without parsing messages. Message text is built in
 * `messages.ts`.
 */

/** Base class of every error live-crew throws on purpose. */
export class LiveCrewError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration value (file, env var or option) is unknown or invalid. Nothing has run. */
export class ConfigError extends LiveCrewError {}

/**
 * A command's options (or the configuration's file keys) contradict each other: two name the
 * same file. Nothing was opened. The CLI exits 2, as for any usage error.
 */
export class UsageError extends ConfigError {}

/** One hop of a constructor chain: the class being constructed and the parameter it was resolving. */
export interface ConstructorStep {
  readonly className: string;
  /** The parameter's position. */
  readonly index: number;
  /** What the parameter asked for: a class name, an `@inject` token, or `Object` for an interface type. */
  readonly token: string;
}

/**
 * Why the DI container could not construct a class, as data: the chain of constructor parameters
 * down to the failure (empty when the first constructor itself failed), and what failed there.
 */
export interface ConstructionFailure {
  readonly path: readonly ConstructorStep[];
  /**
   * `interface`: a parameter typed by an interface (no runtime type); `not-injectable`: a class
   * with constructor parameters but no decorator metadata; `unregistered`: an `@inject` token no
   * provider gives; `cycle`: a class needs itself down its chain; `threw`: a constructor threw.
   */
  readonly problem: 'interface' | 'not-injectable' | 'unregistered' | 'cycle' | 'threw';
  /** The class or token the problem is about. */
  readonly subject: string;
  /** What the constructor threw, for `threw`. */
  readonly thrown?: unknown;
}

/** A crew class is not a valid crew: bad id, no handler, bad options, unresolvable constructor. */
export class CrewDefinitionError extends LiveCrewError {}

/** The DI container cannot construct a crew or an interceptor: `failure` says where and why, as data. */
export class ConstructionError extends CrewDefinitionError {
  constructor(
    message: string,
    readonly failure: ConstructionFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A crew's or service's `onStart` threw: the run did not start. */
export class LifecycleError extends LiveCrewError {}

/** A cycle of offset-0 crew dependencies: no order inside a slice satisfies it. */
export class DependencyCycleError extends CrewDefinitionError {
  constructor(
    message: string,
    /** The crew ids of the cycle, first id repeated at the end: `['a', 'b', 'a']`. */
    readonly cycle: readonly string[],
  ) {
    super(message);
  }
}

/** A value a handler tried to emit or store is not acceptable (bad kind, oversize payload). */
export class HandlerOutputError extends LiveCrewError {}

/** The input as a whole cannot be read (missing file, a JSON array that does not parse). */
export class InputError extends LiveCrewError {}

/**
 * A server live-crew needs (NATS, JetStream, Redis) cannot be reached or lacks what it needs.
 * The message names the server's URL and what to do.
 */
export class ConnectionError extends LiveCrewError {}

/** Output cannot be written where the configuration says (a missing folder, a full disk). */
export class OutputError extends LiveCrewError {}

/**
 * A model call failed (the provider refused it, or kept failing after its retries). A replay
 * raises the same error from the journal, so a handler that catches it behaves the same.
 */
export class ModelCallError extends LiveCrewError {}

/** A vector store refused an operation: a collection of another shape, a backend that cannot be reached. */
export class VectorStoreError extends LiveCrewError {}

/**
 * What a server stores for live-crew (a context snapshot, run-state records, a message of its
 * protocol) is not what live-crew wrote, or could not be written after repeated conflicts.
 */
export class StoredStateError extends LiveCrewError {}

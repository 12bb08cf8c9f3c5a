import type { ZodType } from 'zod';
import type { Dependency } from '../model/dependency.js';
import type { Isolation } from './crew-knobs.js';

/** A class that can be constructed by the DI container. */
export type CrewClass = abstract new (...args: never[]) => object;

/** The event kinds a handler listens to: a list, or every kind. */
export type HandlerTrigger = { readonly any: true } | { readonly any: false; readonly kinds: readonly string[] };

/** One `@OnEvent` method, checked. */
export interface HandlerDefinition {
  readonly method: string;
  readonly trigger: HandlerTrigger;
  readonly payload?: ZodType;
}

/**
 * When a crew with dependencies runs a slice: all met, any met, regardless (order only), or
 * `timeout:<ms>`: with what is met once `ms` of wall time have passed.
 */
export type WaitPolicy = 'all' | 'any' | 'none' | `timeout:${number}`;

/** What a crew gets of a backlog (events delivered together): all in order, or the newest per kind. */
export type BacklogPolicy = 'fifo' | 'latest';

/** Everything the runtime needs to know about a crew, read from its decorators once at start. */
export interface CrewDefinition {
  readonly id: string;
  readonly type: CrewClass;
  /** The class name, for messages. */
  readonly className: string;
  readonly handlers: readonly HandlerDefinition[];
  readonly dependencies: readonly Dependency[];
  readonly maxErrors: number;
  readonly waitPolicy: WaitPolicy;
  /** Runs on slices n with n % sliceStride == 0; events of the slices between wait for the next. */
  readonly sliceStride: number;
  readonly backlogPolicy: BacklogPolicy;
  /** The longest a handler call may take, in ms; undefined for no limit. */
  readonly timeoutMs: number | undefined;
  /** Its writes of slice n merge at the close of slice n + lag (DESIGN §8); 0 by default. */
  readonly lag: number;
  /** The most calls it has in flight at once across streams; undefined for one per stream, no cap. */
  readonly concurrency: number | undefined;
  /** Where it runs (DESIGN §8); undefined: the config's `isolation`. */
  readonly isolation: Isolation | undefined;
  /** The heap limit of its worker or child process, in MiB; undefined: Node's default. */
  readonly memoryLimitMb: number | undefined;
  /** Its model budget per slice of a stream, in tokens (DESIGN §9); undefined: none. */
  readonly maxTokensPerSlice: number | undefined;
  /** Its model calls per minute of wall time, across streams; undefined: no cap. */
  readonly maxCallsPerMinute: number | undefined;
  /** The model its `ctx.model()` gives without a name; undefined: the only one configured, or `default`. */
  readonly model: string | undefined;
}

/**
 * The crews of an app in run order: offset-0 dependencies first, ties broken by crew id. The
 * same order decides whose context write wins a merge (DESIGN §4).
 */
export interface CrewGraph {
  readonly crews: readonly CrewDefinition[];
}

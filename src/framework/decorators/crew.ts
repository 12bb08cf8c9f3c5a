import { injectable } from 'tsyringe';
import { CREW_METADATA } from './metadata-keys.js';
import { refuseStandardDecorator } from './experimental-only.js';

/** Options of `@Crew`. Checked when the app starts; every problem is reported at once. */
export interface CrewOptions {
  /** The crew's unique id: a letter, then letters, digits, `_` or `-` (64 at most). */
  id: string;
  /**
   * How many consecutive handler errors disable the crew for the rest of the run (default 3).
   * A disabled crew publishes one `__error` with reason `disabled`; other crews go on.
   */
  maxErrors?: number;
  /**
   * When the crew runs a slice whose dependencies (`@DependsOn`) are not all met: `'all'` (the
   * default) skips it, `'any'` runs if at least one is met, `'none'` always runs (dependencies
   * then only order crews). `'timeout:<ms>'` runs with what is met after waiting at most `ms` of
   * wall time: in live mode a crew held for an offset-0 dependency then runs before the slice
   * closes; the decision is journaled, so a replay repeats it. A skipped slice is reported as
   * `dependency_unmet`.
   */
  waitPolicy?: 'all' | 'any' | 'none' | `timeout:${number}`;
  /**
   * Run only on every N-th slice (n % N == 0). Events of the slices in between are delivered, in
   * arrival order, when the next run slice opens. Default 1.
   */
  sliceStride?: number;
  /**
   * What the crew gets of a backlog (events delivered together by a stride or by waiting for an
   * offset-0 dependency): `'fifo'` (default) every event in arrival order, `'latest'` only the
   * newest event of each kind.
   */
  backlogPolicy?: 'fifo' | 'latest';
  /**
   * The longest a handler call may take, in ms of wall time. A call over it is abandoned: its
   * actions and writes are discarded and a `timeout` error counts towards `maxErrors`. The
   * decision is journaled, so a replay with the journal repeats it. Default: no limit.
   */
  timeoutMs?: number;
  /**
   * How many slices the crew may lag (default 0): its calls of slice n read S(n-1) plus its own
   * earlier writes, and its writes of slice n merge at the close of slice n + lag, so a slow
   * crew (a model call) holds no slice close up for `lag` slices. Dependents that must not wait
   * for it declare `offset <= -(lag + 1)`. The merge point is configuration, not timing: output
   * stays deterministic.
   */
  lag?: number;
  /**
   * The most calls of this crew in flight at once across streams (a model's rate limit).
   * Default: no cap; a crew's calls on one stream always run one at a time, in arrival order.
   */
  concurrency?: number;
  /**
   * Where the crew runs: `'none'` in the app's process, `'worker'` in a worker thread,
   * `'process'` in a child process (sandboxed by Node's permission model: no file writes
   * outside `isolation_allow_write`, no child processes). An isolated crew can be stopped
   * mid-call: `timeoutMs` ends even a synchronous loop, and a crash (out of memory,
   * `process.exit`) fails only its call in flight. It runs from its module, so the app needs
   * `crewsModule` (the CLI's `--crews`), and it gets `concurrency` (default 1) workers or
   * processes, each one call at a time. Default: the config's `isolation` (`none`).
   */
  isolation?: 'none' | 'worker' | 'process';
  /** The heap limit of an isolated crew's worker or child process, in MiB: past it, the call in flight fails and it restarts. */
  memoryLimitMb?: number;
  /**
   * The most model tokens (input plus output, as the provider reports them) the crew's calls of
   * one slice of a stream may use. A model call once the slice's budget is spent fails its
   * handler call as `budget`, counted like any error. Deterministic: usage is part of the answer.
   */
  maxTokensPerSlice?: number;
  /**
   * The most model calls the crew may start in any minute of wall time, across streams. A call
   * past it fails its handler call as `budget`; the refusal is journaled, so a replay repeats it.
   */
  maxCallsPerMinute?: number;
  /** The model (its name in `models:`) that `ctx.model()` gives without a name. Default: the only one configured, or the one named `default`. */
  model?: string;
}

/**
 * Marks a class as a crew. The class becomes injectable: its constructor parameters are resolved
 * by the app's tsyringe container, so crews receive services, clients and fakes through DI.
 *
 * @example
 * ```ts
 * @Crew({ id: 'score_tracker' })
 * export class ScoreTracker {
 *   constructor(private readonly rules: ScoringRules) {}
 *   @OnEvent('goal_scored') onGoal(event: Event, ctx: CrewContext) { ... }
 * }
 * ```
 */
export function Crew(options: CrewOptions): ClassDecorator {
  return (target, ...standard: unknown[]) => {
    refuseStandardDecorator('@Crew', standard[0]);
    Reflect.defineMetadata(CREW_METADATA, { ...options }, target);
    injectable()(target as unknown as new (...args: unknown[]) => unknown);
  };
}

import type { ReloadableKnobs } from '../discovery/crew-knobs.js';
import type { Lane } from '../runtime/lanes.js';

const MINUTE_MS = 60_000;

/** A crew's budget as it is for a call: its id, and its knobs then. */
export type Budget = { readonly id: string } & Pick<ReloadableKnobs, 'maxTokensPerSlice' | 'maxCallsPerMinute'>;

/**
 * The model budgets of a run's crews (DESIGN §9). Tokens per slice are counted per lane, whose
 * calls run one at a time in arrival order, from the usage each answer reports: the same answers
 * give the same refusals, so a replay repeats them without a journal entry. Calls per minute are
 * wall time: the caller journals each refusal.
 */
export class ModelBudgets {
  readonly #tokens = new WeakMap<Lane, { slice: number; used: number }>();
  /** Per crew, when its model calls of the last minute started, oldest first. */
  readonly #starts = new Map<string, number[]>();
  /** The models whose token counts were estimated at least once. */
  readonly #estimated = new Set<string>();

  /** Whether this is the first time a count of `model`'s tokens was estimated: a warning says so once per model. */
  firstEstimate(model: string): boolean {
    if (this.#estimated.has(model)) return false;
    this.#estimated.add(model);
    return true;
  }

  /** Why the lane's calls of `slice` may not call a model now (their tokens are spent), or undefined. */
  tokensSpent(crew: Budget, lane: Lane, slice: number): string | undefined {
    const limit = crew.maxTokensPerSlice;
    if (limit === undefined) return undefined;
    const used = this.#usage(lane, slice).used;
    return used >= limit ? `${used} tokens used in slice ${slice}, maxTokensPerSlice is ${limit}` : undefined;
  }

  /** Counts tokens an answer used against the lane's slice. */
  spend(crew: Budget, lane: Lane, slice: number, tokens: number): void {
    if (crew.maxTokensPerSlice !== undefined) this.#usage(lane, slice).used += tokens;
  }

  /**
   * Takes a call start at `now` if the crew's `maxCallsPerMinute` allows it; otherwise says why
   * (and the start is not counted).
   */
  startCall(crew: Budget, now: number): string | undefined {
    const limit = crew.maxCallsPerMinute;
    if (limit === undefined) return undefined;
    let starts = this.#starts.get(crew.id);
    if (starts === undefined) this.#starts.set(crew.id, (starts = []));
    while (starts.length > 0 && starts[0]! <= now - MINUTE_MS) starts.shift();
    if (starts.length >= limit) return `${starts.length} model calls started in the last minute, maxCallsPerMinute is ${limit}`;
    starts.push(now);
    return undefined;
  }

  #usage(lane: Lane, slice: number): { slice: number; used: number } {
    let usage = this.#tokens.get(lane);
    if (usage === undefined) this.#tokens.set(lane, (usage = { slice, used: 0 }));
    if (usage.slice !== slice) {
      usage.slice = slice;
      usage.used = 0;
    }
    return usage;
  }
}

import { ModelCallError } from '../errors.js';
import { messages } from '../messages.js';
import { ErrorReason } from '../model/error-record.js';
import type { CallSite } from '../runtime/call-site.js';
import { describeThrown } from '../describe-thrown.js';
import { FrameworkVerdict } from '../runtime/framework-verdict.js';
import { fromJournalValue, toJournalValue } from './journal-value.js';
import { effectDecision } from '../replay/decision-keys.js';
import type { ModelCallServices } from './recorded-model.js';

/** What the journal holds of one recorded effect: its result or why it failed (beside its name and request digest). */
export interface EffectOutcome {
  readonly result?: unknown;
  readonly error?: string;
}

/** An effect looked up in the journal: its key and description, and its outcome if recorded. */
export interface EffectEntry {
  readonly key: string;
  /** `recorded effect 0 ("weather") of crew.method (slice 3)`, for messages. */
  readonly what: string;
  readonly outcome: EffectOutcome | undefined;
}

/**
 * Runs `effect` once and journals its result (`ctx.recorded`, DESIGN §9's recorded decisions
 * for anything outside: a fetch, a tool, a database read). A replay, or a successor that finds
 * it in the journal, gets the recorded result (or failure) without running it.
 */
export async function recordEffect<T>(services: ModelCallServices, scope: CallSite, name: string, effect: () => T | Promise<T>, request?: string): Promise<T> {
  const entry = lookUpEffect(services, scope, name, request);
  return effectResult(entry.outcome ?? (await runEffect(services, scope, entry, name, effect, request)), entry.what) as T;
}

/** An effect as the journal holds it: its name, the digest of its request where it has one, and its outcome. */
type RecordedEffect = EffectOutcome & { readonly name: string; readonly request?: string };

/**
 * The journal's entry for the call's next effect, named `name`; `request` is a digest of what it
 * asks (a vector search's query), so a replay asking something else is not given the recorded
 * answer. Effects are numbered per handler call in the order they start.
 *
 * @throws FrameworkVerdict (`replay_divergence`, failing the call) when a replay's journal has another effect there, or none
 */
export function lookUpEffect(services: ModelCallServices, scope: CallSite, name: string, request?: string): EffectEntry {
  const index = scope.nextEffect();
  const key = effectDecision(scope, index);
  const what = `recorded effect ${index} ("${name}") of ${scope.crewId}.${scope.route.handler.method} (slice ${scope.slice})`;
  const recorded = services.journal.value(key) as RecordedEffect | undefined;
  const strict = services.replayMissing === 'fail';
  const same = recorded !== undefined && recorded.name === name && recorded.request === request;
  if (recorded !== undefined && !same && strict) refuse(scope, recorded.name !== name ? messages.effectDiverged(what, recorded.name) : messages.effectRequestChanged(what));
  if (recorded === undefined && services.journal.replaying && strict) refuse(scope, messages.effectMissing(what));
  return { key, what, outcome: same ? recorded : undefined };
}

/** Runs an effect the journal lacks and records its outcome. */
export async function runEffect(services: ModelCallServices, scope: CallSite, entry: EffectEntry, name: string, effect: () => unknown, request?: string): Promise<EffectOutcome> {
  let outcome: EffectOutcome;
  try {
    outcome = { result: toJournalValue(await effect()) };
  } catch (error) {
    // An effect cut short by the call's end is not an outcome: nothing to record.
    if (scope.ended) throw error;
    outcome = { error: describeThrown(error) };
  }
  await storeEffect(services, entry, name, outcome, request);
  return outcome;
}

/** Records an effect's outcome (run here, or in the call's isolate). */
export async function storeEffect(services: ModelCallServices, entry: Pick<EffectEntry, 'key'>, name: string, outcome: EffectOutcome, request?: string): Promise<void> {
  await services.journal.record(entry.key, { name, ...(request !== undefined ? { request } : {}), ...outcome });
}

/** What the handler gets of an outcome: its result, or its failure thrown again. */
export function effectResult(outcome: EffectOutcome, what: string): unknown {
  if (outcome.error !== undefined) throw new ModelCallError(messages.effectFailed(what, outcome.error));
  return fromJournalValue(outcome.result);
}

function refuse(scope: CallSite, message: string): never {
  const verdict = new FrameworkVerdict(message, ErrorReason.ReplayDivergence);
  scope.failWith(verdict);
  throw verdict;
}

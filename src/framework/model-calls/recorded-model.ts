import {
  APICallError,
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3GenerateResult,
  type LanguageModelV3StreamPart,
  type LanguageModelV3StreamResult,
} from '@ai-sdk/provider';
import { ModelCallError } from '../errors.js';
import { messages } from '../messages.js';
import { ErrorReason } from '../model/error-record.js';
import type { Clock } from '../ports/clock.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { Logger } from '../ports/logger.js';
import type { ModelCallOutcome, RunObserver } from '../ports/run-observer.js';
import type { CallSite } from '../runtime/call-site.js';
import { describeThrown } from '../describe-thrown.js';
import { FrameworkVerdict, type CallFailureReason } from '../runtime/framework-verdict.js';
import { fromJournalValue, streamOf, toJournalValue } from './journal-value.js';
import { budgetDecision, modelCallDecision } from '../replay/decision-keys.js';
import type { Budget, ModelBudgets } from './model-budget.js';
import { differingParts, digestRequest, type RequestDigest } from './request-digest.js';
import { CHARS_PER_TOKEN, countedTokens, type CountedTokens } from './token-count.js';

/** What replaying does with a model call the journal lacks or whose request changed: fail it as `replay_divergence`, or ask the model again. */
export type ReplayMissing = 'fail' | 'live';

/** What every recorded model of a run shares. */
export interface ModelCallServices {
  readonly journal: DecisionJournal;
  readonly clock: Clock;
  readonly budgets: ModelBudgets;
  readonly replayMissing: ReplayMissing;
  readonly observer?: RunObserver;
  readonly logger?: Logger;
}

/** How one configured model is called. */
export interface ModelSettings {
  /** Its name in `models:`. */
  readonly name: string;
  /** What names it in a journaled request (`ModelProvider.identity`). */
  readonly identity: string;
  /** Retries of a call the provider failed with 429 or 5xx. */
  readonly maxRetries: number;
}

/** What the journal holds of one model call: its request's digest, and its answer or failure. */
interface RecordedCall {
  readonly request: RequestDigest;
  /** Attempts the provider failed (429, 5xx) before the outcome, in order: the retries taken. */
  readonly retries?: readonly FailedAttempt[];
  /** `doGenerate`'s answer. */
  readonly result?: unknown;
  /** `doStream`'s parts. */
  readonly parts?: readonly unknown[];
  /** Why the call failed, when it did. */
  readonly error?: string;
}

interface FailedAttempt {
  readonly status?: number;
  readonly message: string;
}

type Mode = 'generate' | 'stream';

/** The first retry waits this long, each next one twice as long (unless the provider says how long). */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * A configured model as one handler call sees it (`ctx.model()`): an AI SDK language model that
 * journals every answer (DESIGN §9), serves recorded answers in a replay, holds the crew to its
 * budget, retries 429s and 5xx, ends with the call's signal, and reports to metrics and logs.
 * A live answer is handed over in the form the journal keeps, so a replay gives the handler the
 * very same values.
 */
export class RecordedModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly #inner: LanguageModelV3;
  readonly #settings: ModelSettings;
  readonly #scope: CallSite;
  readonly #services: ModelCallServices;

  constructor(inner: LanguageModelV3, settings: ModelSettings, scope: CallSite, services: ModelCallServices) {
    this.#inner = inner;
    this.#settings = settings;
    this.#scope = scope;
    this.#services = services;
  }

  get provider(): string {
    return this.#inner.provider;
  }

  get modelId(): string {
    return this.#inner.modelId;
  }

  get supportedUrls(): LanguageModelV3['supportedUrls'] {
    return this.#inner.supportedUrls;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    return this.#call(options, 'generate', async (call, retries) => {
      const answer = await this.#attempt(() => this.#inner.doGenerate(call), call.abortSignal!, retries);
      const { content, finishReason, usage, providerMetadata, warnings, response } = answer;
      // Headers and bodies are the transport's, not the answer's: they are neither kept nor handed over.
      const kept = { content, finishReason, usage, providerMetadata, warnings, ...(response ? { response: { id: response.id, timestamp: response.timestamp, modelId: response.modelId } } : {}) };
      return { result: toJournalValue(kept) };
    });
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    return this.#call(options, 'stream', async (call, retries) => {
      const { stream } = await this.#attempt(() => this.#inner.doStream(call), call.abortSignal!, retries);
      // The whole stream is read before the handler sees a part: what it sees is what a replay serves.
      const parts: unknown[] = [];
      for await (const part of stream) parts.push(toJournalValue(part.type === 'error' ? { type: 'error', error: describeThrown(part.error) } : part));
      return { parts };
    });
  }

  /**
   * One model call: refused by the budget, served from the journal, or made live (with retries)
   * and journaled; the answer is always handed over from its journal form.
   */
  async #call<T extends LanguageModelV3GenerateResult | LanguageModelV3StreamResult>(
    options: LanguageModelV3CallOptions,
    mode: Mode,
    live: (call: LanguageModelV3CallOptions, retries: FailedAttempt[]) => Promise<Pick<RecordedCall, 'result' | 'parts'>>,
  ): Promise<T> {
    const scope = this.#scope;
    const crew = { id: scope.crewId, ...scope.knobs() };
    const { journal, budgets, clock } = this.#services;
    const index = scope.nextModelCall();
    const key = modelCallDecision(scope, index);
    const started = clock.now();
    const request = { mode, ...digestRequest(this.#settings.identity, options) };
    const call = `model call ${index} of ${crew.id}.${scope.route.handler.method} (${this.#settings.name}, slice ${scope.slice})`;
    const refuse = (reason: CallFailureReason, outcome: ModelCallOutcome, message: string) => {
      const verdict = new FrameworkVerdict(message, reason);
      scope.failWith(verdict);
      this.#report(outcome, started, undefined, 0);
      return verdict;
    };

    const tokensSpent = budgets.tokensSpent(crew, scope.lane, scope.slice);
    if (tokensSpent !== undefined) throw refuse(ErrorReason.Budget, 'budget', messages.modelOverBudget(call, tokensSpent));
    // A refusal by calls per minute is wall time: journaled with its reason, so a replay says the same.
    const refusal = budgetDecision(key);
    if (journal.has(refusal)) throw refuse(ErrorReason.Budget, 'budget', messages.modelOverBudget(call, String(journal.value(refusal))));

    let recorded = journal.value(key) as RecordedCall | undefined;
    let outcome: ModelCallOutcome = 'replayed';
    // A recorded answer to another request is no answer: with `replay_missing: live` it is asked again.
    const differs = recorded === undefined ? [] : differingParts(recorded.request, request);
    const strict = this.#services.replayMissing === 'fail';
    if (differs.length > 0 && strict) throw refuse(ErrorReason.ReplayDivergence, 'divergence', messages.replayDiverged(call, differs));
    if (recorded === undefined && journal.replaying && strict) throw refuse(ErrorReason.ReplayDivergence, 'divergence', messages.replayMissing(call));
    if (recorded === undefined || differs.length > 0) {
      const rate = budgets.startCall(crew, clock.now());
      if (rate !== undefined) {
        await journal.record(refusal, rate);
        throw refuse(ErrorReason.Budget, 'budget', messages.modelOverBudget(call, rate));
      }
      this.#services.logger?.debug({ stream: scope.streamId, slice: scope.slice, crew: crew.id, model: this.#settings.name, prompt: options.prompt }, messages.modelRequest);
      const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, scope.signal]) : scope.signal;
      const retries: FailedAttempt[] = [];
      let answer: Pick<RecordedCall, 'result' | 'parts' | 'error'>;
      try {
        answer = await live({ ...options, abortSignal: signal }, retries);
      } catch (error) {
        // A call whose handler call ended (timeout, stop) is not an answer: nothing to record.
        if (signal.aborted) throw error;
        answer = { error: messages.modelCallFailed(call, describeThrown(error), retries.length) };
      }
      recorded = { request, ...(retries.length > 0 ? { retries } : {}), ...answer };
      await journal.record(key, recorded);
      outcome = recorded.error === undefined ? 'ok' : 'error';
    }
    return this.#answer(recorded, mode, outcome, started, call, crew, options.prompt) as T;
  }

  /** The journal's form of an answer as the SDK takes it; a recorded failure is thrown again. */
  #answer(
    recorded: RecordedCall,
    mode: Mode,
    outcome: ModelCallOutcome,
    started: number,
    call: string,
    crew: Budget,
    prompt: LanguageModelV3CallOptions['prompt'],
  ): LanguageModelV3GenerateResult | LanguageModelV3StreamResult {
    const scope = this.#scope;
    if (recorded.error !== undefined) {
      this.#report(outcome, started, undefined, recorded.retries?.length ?? 0);
      throw new ModelCallError(recorded.error);
    }
    const result = mode === 'generate' ? (fromJournalValue(recorded.result) as LanguageModelV3GenerateResult) : undefined;
    const parts = mode === 'stream' ? (fromJournalValue(recorded.parts ?? []) as LanguageModelV3StreamPart[]) : undefined;
    const usage = result?.usage ?? parts?.find((part): part is Extract<LanguageModelV3StreamPart, { type: 'finish' }> => part.type === 'finish')?.usage;
    if (result === undefined && parts === undefined) throw new ModelCallError(messages.recordedCallUnreadable(call));
    const { budgets, logger } = this.#services;
    const counted = countedTokens(usage, prompt, result?.content ?? parts);
    if (counted.estimated && budgets.firstEstimate(this.#settings.name)) logger?.warn({ model: this.#settings.name, usage }, messages.modelUsageEstimated(this.#settings.name, CHARS_PER_TOKEN));
    budgets.spend(crew, scope.lane, scope.slice, counted.input + counted.output);
    this.#report(outcome, started, outcome === 'replayed' ? undefined : counted, recorded.retries?.length ?? 0);
    if (result !== undefined) return result;
    return { stream: streamOf(parts!) };
  }

  /** Calls the provider, again after a 429 or 5xx while retries are left, waiting as it asks (or backing off). */
  async #attempt<T>(attempt: () => PromiseLike<T>, signal: AbortSignal, retries: FailedAttempt[]): Promise<T> {
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (signal.aborted || retries.length >= this.#settings.maxRetries || !APICallError.isInstance(error) || !error.isRetryable) throw error;
        retries.push({ ...(error.statusCode !== undefined ? { status: error.statusCode } : {}), message: describeThrown(error) });
        await this.#services.clock.sleep(retryDelay(error, retries.length), signal);
        if (signal.aborted) throw error;
      }
    }
  }

  /** Tells monitors and the log of a call's end; `counted`: the tokens of an answer the provider gave now (a replayed one costs none). */
  #report(outcome: ModelCallOutcome, started: number, counted: CountedTokens | undefined, retries: number): void {
    const scope = this.#scope;
    const tMs = this.#services.clock.now() - started;
    const inputTokens = counted?.input ?? 0;
    const outputTokens = counted?.output ?? 0;
    const crew = scope.route.crew.definition.id;
    this.#services.observer?.modelCalled?.({ crew, model: this.#settings.name, outcome, inputTokens, outputTokens, seconds: tMs / 1000 });
    this.#services.logger?.info(
      { stream: scope.streamId, slice: scope.slice, crew, model: this.#settings.name, outcome, input_tokens: inputTokens, output_tokens: outputTokens, retries, t_ms: tMs },
      messages.modelCallEnded,
    );
  }
}

/** How long to wait before retry `n` (1-based): what the provider asked for, else exponential backoff; capped. */
function retryDelay(error: APICallError, n: number): number {
  const headers = error.responseHeaders ?? {};
  const ms = Number(headers['retry-after-ms']);
  const seconds = Number(headers['retry-after']);
  const asked = Number.isFinite(ms) && ms >= 0 ? ms : Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
  return Math.min(asked ?? RETRY_BASE_MS * 2 ** (n - 1), RETRY_MAX_MS);
}

import type {
  EmbeddingModelV3,
  EmbeddingModelV3Result,
  SharedV3ProviderOptions,
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
} from '@ai-sdk/provider';
import { ModelCallError } from '../errors.js';
import { fromJournalValue, streamOf, toJournalValue } from '../model-calls/journal-value.js';
import type { ModelAccess, ModelCalls } from '../model-calls/model-calls.js';
import { messages } from '../messages.js';
import { effectResult, type EffectOutcome } from '../model-calls/recorded-effect.js';
import { internal, type CallScope } from '../runtime/call-scope.js';
import type { CallSite } from '../runtime/call-site.js';
import { describeThrown } from '../describe-thrown.js';
import type { VectorHit } from '../model/vector.js';
import type { VectorCollection } from '../ports/crew-context.js';
import { FrameworkVerdict } from '../runtime/framework-verdict.js';
import { ErrorReason } from '../model/error-record.js';
import type { RequestAnswer, CrewHostRequest, IsolateReport } from '../runner-protocol.js';

/**
 * Answers what a handler in an isolate asks the app, through the call's own scope, so it is
 * journaled, budgeted and ended with the call's signal as in process: a model call (its answer
 * travels back in its journal form), an effect's journal entry, an effect's outcome to record. A
 * refusal (budget, replay divergence) also fails the call in the app.
 */
export async function answerRequest(scope: CallScope | undefined, models: ModelCalls | undefined, request: CrewHostRequest): Promise<RequestAnswer> {
  const answer = (result: Omit<RequestAnswer, 'type' | 'request'>): RequestAnswer => ({ type: 'answer', request: request.request, ...result });
  if (scope === undefined || internal.ended(scope)) return answer({ error: 'the call this request belongs to has ended' });
  if (models === undefined) return answer({ error: messages.noModelsHere(scope.crewId) });
  try {
    switch (request.type) {
      case 'effect':
        return answer({ effect: models.lookUpEffect(internal.site(scope), request.name) });
      case 'effect-outcome':
        await models.storeEffect({ key: request.key, what: request.what }, request.name, request.outcome);
        return answer({});
      case 'embed': {
        const options = {
          values: request.values,
          abortSignal: scope.signal,
          ...(request.providerOptions !== undefined ? { providerOptions: request.providerOptions as SharedV3ProviderOptions } : {}),
        };
        return answer({ result: toJournalValue(await scope.embedder(request.name ?? undefined).doEmbed(options)) });
      }
      case 'vectors': {
        const collection = scope.vectors(request.collection) as unknown as Record<typeof request.op, (...args: unknown[]) => unknown>;
        return answer({ result: toJournalValue((await collection[request.op](...request.args)) ?? null) });
      }
      case 'model': {
        const model = scope.model(request.name ?? undefined);
        const options = { ...(fromJournalValue(request.options) as LanguageModelV3CallOptions), abortSignal: scope.signal };
        if (request.mode === 'generate') return answer({ result: toJournalValue(await model.doGenerate(options)) });
        const parts: LanguageModelV3StreamPart[] = [];
        for await (const part of (await model.doStream(options)).stream) parts.push(part);
        return answer({ result: toJournalValue(parts) });
      }
    }
  } catch (error) {
    return answer({ error: describeThrown(error) });
  }
}

/** What a request leaves to the isolate to say: everything but its type and number. */
type RequestBody = CrewHostRequest extends infer R ? (R extends CrewHostRequest ? Omit<R, 'request'> : never) : never;

/**
 * The models and recorded effects of an isolate: each `ctx.model()` is a stand-in whose calls the
 * app makes, and each `ctx.recorded` asks the app's journal first (the journal, budgets and
 * metrics are the app's); the effect itself runs here.
 */
export class ModelsByMessage implements ModelAccess {
  readonly #send: (message: IsolateReport) => void;
  readonly #callId: (scope: CallSite) => number;
  readonly #pending = new Map<number, { resolve: (answer: RequestAnswer) => void; reject: (error: unknown) => void }>();
  #next = 0;

  constructor(send: (message: IsolateReport) => void, callId: (scope: CallSite) => number) {
    this.#send = send;
    this.#callId = callId;
  }

  languageModel(scope: CallSite, name: string | undefined): LanguageModelV3 {
    const ask = async (mode: 'generate' | 'stream', options: LanguageModelV3CallOptions) => {
      // The signal stays here: the app ends the call with its own.
      const { abortSignal: _signal, ...sent } = options;
      return fromJournalValue((await this.#ask({ type: 'model', id: this.#callId(scope), name: name ?? null, mode, options: toJournalValue(sent) })).result);
    };
    return {
      specificationVersion: 'v3',
      provider: 'live-crew-isolate',
      modelId: name ?? 'default',
      supportedUrls: {},
      doGenerate: async (options) => (await ask('generate', options)) as LanguageModelV3GenerateResult,
      doStream: async (options): Promise<LanguageModelV3StreamResult> => {
        const parts = (await ask('stream', options)) as LanguageModelV3StreamPart[];
        return { stream: streamOf(parts) };
      },
    };
  }

  embeddingModel(scope: CallSite, name: string | undefined): EmbeddingModelV3 {
    return {
      specificationVersion: 'v3',
      provider: 'live-crew-isolate',
      modelId: name ?? 'default',
      maxEmbeddingsPerCall: undefined,
      supportsParallelCalls: true,
      doEmbed: async ({ values, providerOptions }) =>
        fromJournalValue((await this.#ask({ type: 'embed', id: this.#callId(scope), name: name ?? null, values, providerOptions: toJournalValue(providerOptions) })).result) as EmbeddingModelV3Result,
    };
  }

  vectors(scope: CallSite, collection: string): VectorCollection {
    const ask = async (op: 'search' | 'upsert' | 'delete', args: unknown[]) =>
      fromJournalValue((await this.#ask({ type: 'vectors', id: this.#callId(scope), collection, op, args: toJournalValue(args) as unknown[] })).result);
    return {
      name: collection,
      search: async (query, options) => (await ask('search', [query, options])) as VectorHit[],
      upsert: async (documents) => (await ask('upsert', [documents])) as string[],
      // The app holds it in the call's scope; a failure shows when the call ends, as a write's would.
      delete: (ids) => void ask('delete', [ids]).catch((error: unknown) => scope.failWith(new FrameworkVerdict(describeThrown(error), ErrorReason.HandlerError))),
    };
  }

  /** An isolate holds no vector writes: its calls' go to the app's scope as they are made. */
  holdVectorWrites(): void {}

  async recorded<T>(scope: CallSite, name: string, effect: () => T | Promise<T>): Promise<T> {
    const id = this.#callId(scope);
    const { key, what, outcome: recorded } = (await this.#ask({ type: 'effect', id, name })).effect!;
    let outcome: EffectOutcome | undefined = recorded;
    if (outcome === undefined) {
      try {
        outcome = { result: toJournalValue(await effect()) };
      } catch (error) {
        outcome = { error: describeThrown(error) };
      }
      await this.#ask({ type: 'effect-outcome', id, name, key, what, outcome });
    }
    return effectResult(outcome, what) as T;
  }

  /** The app answered a request. */
  answered(answer: RequestAnswer): void {
    const pending = this.#pending.get(answer.request);
    this.#pending.delete(answer.request);
    if (answer.error !== undefined) pending?.reject(new ModelCallError(answer.error));
    else pending?.resolve(answer);
  }

  #ask(body: RequestBody): Promise<RequestAnswer> {
    return new Promise((resolve, reject) => {
      const request = this.#next++;
      this.#pending.set(request, { resolve, reject });
      this.#send({ ...body, request } as IsolateReport);
    });
  }
}

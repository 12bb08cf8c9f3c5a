import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3GenerateResult, LanguageModelV3StreamPart, LanguageModelV3StreamResult } from '@ai-sdk/provider';
import { ModelCallError } from '../errors.js';
import { fromJournalValue, toJournalValue } from '../models/journal-value.js';
import type { ModelAccess } from '../models/model-calls.js';
import type { CallScope } from '../runtime/call-scope.js';
import { describeThrown } from '../runtime/describe-thrown.js';
import type { IsolatedModelAnswer, IsolatedModelRequest, IsolateMessage } from './isolation-protocol.js';

/**
 * Makes an isolate's model request in the app, through the call's own `ctx.model()`: journaled,
 * budgeted and ended with the call's signal as in process. The answer travels back in its
 * journal form; a refusal (budget, replay divergence) also fails the call in the app.
 */
export async function answerModelRequest(scope: CallScope | undefined, request: IsolatedModelRequest): Promise<IsolatedModelAnswer> {
  const answer = (result: Omit<IsolatedModelAnswer, 'type' | 'request'>): IsolatedModelAnswer => ({ type: 'answer', request: request.request, ...result });
  if (scope === undefined || scope.ended) return answer({ error: 'the call this model request belongs to has ended' });
  try {
    const model = scope.model(request.name ?? undefined);
    const options = { ...(fromJournalValue(request.options) as LanguageModelV3CallOptions), abortSignal: scope.signal };
    if (request.mode === 'generate') return answer({ result: toJournalValue(await model.doGenerate(options)) });
    const parts: LanguageModelV3StreamPart[] = [];
    for await (const part of (await model.doStream(options)).stream) parts.push(part);
    return answer({ result: toJournalValue(parts) });
  } catch (error) {
    return answer({ error: describeThrown(error) });
  }
}

/**
 * The models of an isolate: each `ctx.model()` is a stand-in whose calls the app makes (the
 * journal, budgets and metrics are the app's), answered by message.
 */
export class ModelsByMessage implements ModelAccess {
  readonly #send: (message: IsolateMessage) => void;
  readonly #callId: (scope: CallScope) => number;
  readonly #pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: unknown) => void }>();
  #next = 0;

  constructor(send: (message: IsolateMessage) => void, callId: (scope: CallScope) => number) {
    this.#send = send;
    this.#callId = callId;
  }

  languageModel(scope: CallScope, name: string | undefined): LanguageModelV3 {
    const ask = (mode: IsolatedModelRequest['mode'], options: LanguageModelV3CallOptions) =>
      new Promise<unknown>((resolve, reject) => {
        const request = this.#next++;
        this.#pending.set(request, { resolve, reject });
        // The signal stays here: the app ends the call with its own.
        const { abortSignal: _signal, ...sent } = options;
        this.#send({ type: 'model', id: this.#callId(scope), request, name: name ?? null, mode, options: toJournalValue(sent) });
      });
    return {
      specificationVersion: 'v3',
      provider: 'live-crew-isolate',
      modelId: name ?? 'default',
      supportedUrls: {},
      doGenerate: async (options) => fromJournalValue(await ask('generate', options)) as LanguageModelV3GenerateResult,
      doStream: async (options): Promise<LanguageModelV3StreamResult> => {
        const parts = fromJournalValue(await ask('stream', options)) as LanguageModelV3StreamPart[];
        return { stream: new ReadableStream({ start: (controller) => (parts.forEach((part) => controller.enqueue(part)), controller.close()) }) };
      },
    };
  }

  /** The app answered a request. */
  answered(answer: IsolatedModelAnswer): void {
    const pending = this.#pending.get(answer.request);
    this.#pending.delete(answer.request);
    if (answer.error !== undefined) pending?.reject(new ModelCallError(answer.error));
    else pending?.resolve(answer.result);
  }
}

import { streamOf } from '../../framework/model-calls/journal-value.js';
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3GenerateResult, LanguageModelV3Prompt, LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';

/** One rule of a scripted model: when `when` matches the prompt's last user text (or always, without it), reply `text`. */
export interface ScriptedReply {
  readonly when?: RegExp | string;
  /** The reply: text, a value (sent as its JSON, for `generateObject`), or made from the prompt's last user text. */
  readonly text: string | object | ((prompt: string) => string | object);
}

/** Options of `scriptedModel`. */
export interface ScriptedModelOptions {
  /** Its model id (default `scripted`). */
  readonly modelId?: string;
  /** Wall time each answer takes, in ms (default 0): a stand-in for a slow model. Ends early when the call's signal aborts. */
  readonly latencyMs?: number;
}

/** A scripted model: what it was asked, in order, as the prompt's last user text. */
export interface ScriptedModel extends LanguageModelV3 {
  readonly prompts: readonly string[];
}

/** A scripted model's id when its options name none. */
export const SCRIPTED_MODEL_ID = 'scripted';

/**
 * A language model that answers from a script, with no network and no key: for unit tests and
 * offline demos (`provider: scripted` in `models:`). The first reply whose `when` matches the
 * last user message wins; a reply without `when` always matches; no match answers with an empty
 * text. Token usage is counted as one token per 4 characters, so budgets can be tested.
 *
 * @example
 * ```ts
 * const model = scriptedModel([{ when: /goal/, text: 'What a strike!' }, { text: 'Play goes on.' }]);
 * const t = await createTestingApp({ crews: [Commentator], models: { commentator: model } });
 * ```
 */
export function scriptedModel(script: string | ScriptedReply['text'] | readonly ScriptedReply[], options: ScriptedModelOptions = {}): ScriptedModel {
  const replies: readonly ScriptedReply[] = Array.isArray(script) ? script : [{ text: script as ScriptedReply['text'] }];
  const prompts: string[] = [];
  const answer = async (call: LanguageModelV3CallOptions): Promise<{ text: string; usage: LanguageModelV3Usage }> => {
    const prompt = lastUserText(call.prompt);
    prompts.push(prompt);
    if (options.latencyMs) await delay(options.latencyMs, call.abortSignal);
    call.abortSignal?.throwIfAborted();
    const reply = replies.find(({ when }) => when === undefined || (typeof when === 'string' ? new RegExp(when) : when).test(prompt));
    const made = typeof reply?.text === 'function' ? reply.text(prompt) : (reply?.text ?? '');
    const text = typeof made === 'string' ? made : JSON.stringify(made);
    return { text, usage: usageOf(promptText(call.prompt), text) };
  };
  return {
    specificationVersion: 'v3',
    provider: 'scripted',
    modelId: options.modelId ?? SCRIPTED_MODEL_ID,
    supportedUrls: {},
    prompts,
    async doGenerate(call): Promise<LanguageModelV3GenerateResult> {
      const { text, usage } = await answer(call);
      return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
    },
    async doStream(call) {
      const { text, usage } = await answer(call);
      const parts: LanguageModelV3StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'text-start', id: '0' },
        { type: 'text-delta', id: '0', delta: text },
        { type: 'text-end', id: '0' },
        { type: 'finish', usage, finishReason: { unified: 'stop', raw: 'stop' } },
      ];
      return { stream: streamOf(parts) };
    },
  };
}

/** The text of the prompt's last user message. */
function lastUserText(prompt: LanguageModelV3Prompt): string {
  const last = [...prompt].reverse().find((message) => message.role === 'user');
  return last === undefined ? '' : textOf(last.content);
}

function promptText(prompt: LanguageModelV3Prompt): string {
  return prompt.map((message) => (typeof message.content === 'string' ? message.content : textOf(message.content))).join('\n');
}

function textOf(content: LanguageModelV3Prompt[number]['content']): string {
  if (typeof content === 'string') return content;
  return content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('');
}

function usageOf(input: string, output: string): LanguageModelV3Usage {
  const tokens = (text: string) => Math.ceil(text.length / 4);
  return {
    inputTokens: { total: tokens(input), noCache: tokens(input), cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: tokens(output), text: tokens(output), reasoning: 0 },
  };
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

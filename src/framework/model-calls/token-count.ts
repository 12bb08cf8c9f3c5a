import type { LanguageModelV3Prompt, LanguageModelV3Usage } from '@ai-sdk/provider';

/**
 * Characters per token of the estimate a budget falls back on: the usual rule for English text
 * (OpenAI's tokenizer guidance); code and other languages take more tokens per character, so
 * the estimate is low there, but never nothing.
 */
export const CHARS_PER_TOKEN = 4;

/** Tokens an answer counts (against a budget, in metrics), and whether any of them is an estimate. */
export interface CountedTokens {
  readonly input: number;
  readonly output: number;
  readonly estimated: boolean;
}

/**
 * The tokens a model call counts against `maxTokensPerSlice`: its input and output as the
 * provider reports them, where they are counts (whole, not negative, finite); where one is not
 * (absent, negative, NaN), what its text implies at CHARS_PER_TOKEN characters a token: the
 * prompt's for input, the answer's for output. A provider reporting nothing, or a negative
 * count, never lets a crew past its budget.
 *
 * @param answer - the answer's content (a generated result's, or a stream's parts), as JSON
 */
export function countedTokens(usage: LanguageModelV3Usage | undefined, prompt: LanguageModelV3Prompt, answer: unknown): CountedTokens {
  const input = usage?.inputTokens.total;
  const output = usage?.outputTokens.total;
  return { input: isCount(input) ? input : estimate(prompt), output: isCount(output) ? output : estimate(answer), estimated: !isCount(input) || !isCount(output) };
}

function isCount(tokens: number | undefined): tokens is number {
  return typeof tokens === 'number' && Number.isSafeInteger(tokens) && tokens >= 0;
}

function estimate(text: unknown): number {
  return Math.ceil((JSON.stringify(text) ?? '').length / CHARS_PER_TOKEN);
}

import { createHash } from 'node:crypto';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';

/**
 * A model request as the journal keeps it: a short digest per part (the model, the prompt, the
 * tools, each setting), never the text itself. A replay compares part by part, so a divergence
 * says what changed ("prompt", "temperature") without the journal holding a prompt.
 */
export type RequestDigest = Readonly<Record<string, string>>;

/** What does not make a request different: how it travels, not what it asks. */
const NOT_THE_REQUEST: ReadonlySet<string> = new Set(['abortSignal', 'headers', 'includeRawChunks']);

/** The digest of a request to `model` (`provider:modelId`). */
export function digestRequest(model: string, options: LanguageModelV3CallOptions): RequestDigest {
  const digest: Record<string, string> = { model: hash(model) };
  for (const [part, value] of Object.entries(options)) {
    if (value !== undefined && !NOT_THE_REQUEST.has(part)) digest[part] = hash(JSON.stringify(value) ?? 'null');
  }
  return digest;
}

/** The parts whose digests differ, sorted: `['prompt', 'temperature']`; empty when the requests match. */
export function differingParts(recorded: RequestDigest, now: RequestDigest): string[] {
  const parts = new Set([...Object.keys(recorded), ...Object.keys(now)]);
  return [...parts].filter((part) => recorded[part] !== now[part]).sort();
}

/** A short digest of a JSON value: what a recorded effect keeps of its request. */
export function digestValue(value: unknown): string {
  return hash(JSON.stringify(value) ?? 'null');
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

import { z } from 'zod';
import type { CrewContext } from '../ports/crew-context.js';
import type { VectorPayload } from '../model/vector.js';

/** The collection the built-in tools use when none is named. */
export const DEFAULT_TOOL_COLLECTION = 'facts';
/** How many documents `vector_search` returns when neither its options nor the model say (the original spec's example). */
const DEFAULT_TOOL_TOP_K = 8;

/** Options of the built-in tools. */
export interface VectorToolOptions {
  /** The collection searched and inserted into (default `facts`). */
  readonly collection?: string;
  /** The most documents `vector_search` returns unless the model asks for fewer (default 8). */
  readonly topK?: number;
}

/** A tool as the AI SDK takes it (`generateText({ tools })`): a description, a zod input schema and what it does. */
export interface CrewTool<Input, Output> {
  readonly description: string;
  readonly inputSchema: z.ZodType<Input>;
  execute(input: Input): Promise<Output>;
}

const VectorSearchToolInput = z.strictObject({
  query: z.string().min(1).describe('What to look for, in words'),
  top_k: z.number().int().min(1).max(50).optional().describe('How many documents at most'),
});
const FactInsertToolInput = z.strictObject({
  fact: z.string().min(1).describe('The fact to remember, as one self-contained sentence'),
});

/** A document `vector_search` returns: the original spec's Document. */
export interface FoundDocument {
  readonly id: string;
  readonly text?: string;
  readonly score: number;
  readonly payload: VectorPayload;
}

/** The built-in tools of a handler call, by the names models see (a type, not an interface, so it is an AI SDK `ToolSet`). */
export type VectorTools = {
  readonly vector_search: CrewTool<z.infer<typeof VectorSearchToolInput>, { documents: FoundDocument[] }>;
  readonly fact_insert: CrewTool<z.infer<typeof FactInsertToolInput>, { id: string }>;
};

/**
 * The built-in tools for model crews (DESIGN §10), over `ctx.vectors(collection)`:
 * `vector_search` finds the documents nearest a query, `fact_insert` remembers a fact (with the
 * slice and stream it was learnt in), applied when the call's slice merges. Both are journaled
 * with the call (a search is a recorded decision, a fact's embedding too), so an agent's replay
 * is exact.
 *
 * @example
 * ```ts
 * const { text } = await generateText({ model: ctx.model(), tools: vectorTools(ctx, { collection: 'moments' }), stopWhen: stepCountIs(3), prompt });
 * ```
 */
export function vectorTools(ctx: CrewContext, options: VectorToolOptions = {}): VectorTools {
  const collection = options.collection ?? DEFAULT_TOOL_COLLECTION;
  const topK = options.topK ?? DEFAULT_TOOL_TOP_K;
  return {
    vector_search: {
      description: `Searches "${collection}" for the documents most similar to a query; returns them nearest first, with their text, score and payload.`,
      inputSchema: VectorSearchToolInput,
      execute: async ({ query, top_k }) => {
        const hits = await ctx.vectors(collection).search(query, { topK: Math.min(top_k ?? topK, topK) });
        return { documents: hits.map(({ id, text, score, payload }) => ({ id, ...(text !== undefined ? { text } : {}), score, payload })) };
      },
    },
    fact_insert: {
      description: `Remembers a fact in "${collection}", for later searches (from the next time slice on).`,
      inputSchema: FactInsertToolInput,
      execute: async ({ fact }) => {
        const [id] = await ctx.vectors(collection).upsert({ text: fact, payload: { kind: 'fact', slice: ctx.slice, stream_id: ctx.streamId } });
        return { id: id! };
      },
    },
  };
}

/** The names of the built-in tools: what a YAML crew's `tools:` may list. */
export const VECTOR_TOOL_NAMES = ['vector_search', 'fact_insert'] as const;

/** A built-in tool's name. */
export type VectorToolName = (typeof VECTOR_TOOL_NAMES)[number];

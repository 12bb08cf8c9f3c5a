import { z } from 'zod';
import { COLLECTION_NAME_PATTERN } from '../config/vector-config.js';
import { HandlerOutputError } from '../errors.js';
import { messages } from '../messages.js';
import { describeIssues } from '../model/event.js';
import type { VectorFilter } from '../model/vector.js';

/** The default and the largest `topK` of a search. */
const DEFAULT_TOP_K = 10;
const MAX_TOP_K = 1000;
/** The longest vector any backend here takes (pgvector's `vector` type indexes up to 2000, stores up to 16000). */
const MAX_DIMENSION = 16_000;

const VectorSchema = z
  .array(z.number({ error: 'must be a number' }).refine(Number.isFinite, { error: 'must be a finite number' }), { error: 'must be an array of numbers' })
  .min(1, { error: 'must hold at least one number' })
  .max(MAX_DIMENSION, { error: `must hold at most ${MAX_DIMENSION} numbers` });

const FilterValueSchema = z.union([z.string(), z.number().refine(Number.isFinite), z.boolean()], { error: 'must be a string, a finite number or a boolean' });

const FilterSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: 'a filter key is a top-level payload key: a letter or _, then letters, digits or _' }),
  z.union([FilterValueSchema, z.array(FilterValueSchema).min(1, { error: 'must list at least one value' }).max(100, { error: 'must list at most 100 values' })], {
    error: 'must be a value to match, or a list of values to match any of',
  }),
  { error: 'must map payload keys to values: { kind: "goal" }' },
);

const SearchOptionsSchema = z.strictObject(
  {
    topK: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(1, { error: 'must be 1..1000' }).max(MAX_TOP_K, { error: 'must be 1..1000' }).optional(),
    filter: FilterSchema.optional(),
  },
  { error: 'must be { topK?, filter? }' },
);

const DocumentSchema = z
  .strictObject(
    {
      id: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(256, { error: 'must be at most 256 characters' }).optional(),
      text: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
      vector: VectorSchema.optional(),
      payload: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }).optional(),
    },
    { error: 'must be { id?, text?, vector?, payload? }' },
  )
  .refine((document) => document.text !== undefined || document.vector !== undefined, { error: 'needs a text (to embed) or a vector' });

/** A checked search query: a text or a vector, and its options. */
export interface SearchInput {
  readonly query: string | readonly number[];
  readonly topK: number;
  readonly filter?: VectorFilter;
}

/**
 * The collection name a handler gave, checked.
 *
 * @throws HandlerOutputError naming the crew
 */
export function checkCollectionName(crew: string, name: unknown): string {
  if (typeof name !== 'string' || !COLLECTION_NAME_PATTERN.test(name)) throw new HandlerOutputError(messages.collectionNameInvalid(crew, name));
  return name;
}

/** @throws HandlerOutputError naming the crew, the call and what is wrong */
export function checkSearch(crew: string, collection: string, query: unknown, options: unknown): SearchInput {
  const call = `vectors("${collection}").search`;
  const queryError = 'the query must be a non-empty text or an array of finite numbers';
  const parsedQuery = z.union([z.string().min(1, { error: queryError }), VectorSchema], { error: queryError }).safeParse(query);
  if (!parsedQuery.success) throw new HandlerOutputError(messages.vectorCallInvalid(crew, call, describeIssues(parsedQuery.error)));
  const parsed = SearchOptionsSchema.safeParse(options ?? {}, { reportInput: true });
  if (!parsed.success) throw new HandlerOutputError(messages.vectorCallInvalid(crew, call, `options: ${describeIssues(parsed.error)}`));
  return { query: parsedQuery.data, topK: parsed.data.topK ?? DEFAULT_TOP_K, ...(parsed.data.filter ? { filter: parsed.data.filter } : {}) };
}

/** @throws HandlerOutputError naming the crew, the call, the document's index and what is wrong */
export function checkDocuments(crew: string, collection: string, documents: unknown): ReadonlyArray<z.infer<typeof DocumentSchema>> {
  const list = Array.isArray(documents) ? documents : [documents];
  const parsed = z.array(DocumentSchema).safeParse(list, { reportInput: true });
  if (!parsed.success) throw new HandlerOutputError(messages.vectorCallInvalid(crew, `vectors("${collection}").upsert`, `documents${describeIssues(parsed.error)}`));
  return parsed.data;
}

/** @throws HandlerOutputError naming the crew and the call */
export function checkIds(crew: string, collection: string, ids: unknown): readonly string[] {
  const parsed = z.array(z.string().min(1).max(256), { error: 'must be ids: strings of 1..256 characters' }).safeParse(Array.isArray(ids) ? ids : [ids], { reportInput: true });
  if (!parsed.success) throw new HandlerOutputError(messages.vectorCallInvalid(crew, `vectors("${collection}").delete`, describeIssues(parsed.error)));
  return parsed.data;
}

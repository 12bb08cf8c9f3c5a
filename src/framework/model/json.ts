/** JSON values and their size, as the payload and context limits count it. */

import { messages } from '../messages.js';
import { freezeParsedJson } from './frozen-json.js';
import { describeThrown } from '../describe-thrown.js';

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Room a line needs beside its payload: `ts`, `kind`, `stream_id` and the JSON around them. */
const LINE_OVERHEAD_BYTES = 16_384;

/** The longest input line when none is configured: the payload limit plus room for the event's other fields. */
export function defaultLineMaxBytes(payloadMaxBytes: number): number {
  return payloadMaxBytes + LINE_OVERHEAD_BYTES;
}

/**
 * UTF-8 byte length of a JSON text. One UTF-16 unit encodes to at most 3 UTF-8 bytes, so a short
 * text is known to fit without counting: the hot path only pays for large payloads.
 */
export function jsonBytesOver(text: string, maxBytes: number): number | undefined {
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > maxBytes ? bytes : undefined;
}

/**
 * The most bytes of JSON live-crew reads in one piece from a server (a NATS message, a KV value):
 * NATS' max_payload is 1 MB by default and 64 MB at most, and live-crew writes nothing near this.
 */
export const FOREIGN_JSON_MAX_BYTES = 8 * 1024 * 1024;

/** What `parseForeignJson` gives: the value, or what is wrong with the text. */
export type ForeignJson = { readonly value: unknown; readonly problem?: undefined } | { readonly problem: string };

/**
 * Parses JSON taken in from outside the process (a NATS message, a KV value, a journal entry)
 * within bounds checked before anything recurses into it: its bytes, then its nesting
 * (`JSON.parse` does not recurse, but a freeze, a merge or `JSON.stringify` after it does). The
 * value comes back deeply frozen.
 *
 * @param maxDepth - the deepest nesting of arrays and objects accepted, the outermost counting 1
 */
export function parseForeignJson(text: string, maxDepth: number, maxBytes = FOREIGN_JSON_MAX_BYTES): ForeignJson {
  const json = parseJsonWithin(text, maxBytes);
  if (json.problem !== undefined) return json;
  const problem = freezeParsedJson(json.value, maxDepth, 'body', messages.foreignJsonTooDeep(maxDepth));
  return problem === undefined ? json : { problem };
}

/**
 * Parses JSON from outside within `maxBytes`, and nothing more: for a reader that checks the
 * value's shape with a schema (which recurses into nothing it does not know) and then bounds
 * each nested value it keeps itself, so no part is walked twice.
 */
export function parseJsonWithin(text: string, maxBytes = FOREIGN_JSON_MAX_BYTES): ForeignJson {
  const bytes = jsonBytesOver(text, maxBytes);
  if (bytes !== undefined) return { problem: messages.foreignJsonTooLarge(bytes, maxBytes) };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { problem: messages.notJson(describeThrown(error)) };
  }
}

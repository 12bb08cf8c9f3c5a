/** JSON values and their size, as the payload and context limits count it. */

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * UTF-8 byte length of a JSON text. One UTF-16 unit encodes to at most 3 UTF-8 bytes, so a short
 * text is known to fit without counting: the hot path only pays for large payloads.
 */
export function jsonBytesOver(text: string, maxBytes: number): number | undefined {
  if (text.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > maxBytes ? bytes : undefined;
}

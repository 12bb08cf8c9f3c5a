/** JSON values and their size, as the payload and context limits count it. */

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

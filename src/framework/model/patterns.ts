/** The identifier rules of DESIGN §3, shared by the zod schemas and the hot-path checks. */

/** Event and action kinds. */
export const KIND_PATTERN = /^[a-zA-Z0-9_]{1,50}$/;
/** Stream ids. */
export const STREAM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,100}$/;
/**
 * Crew ids. They appear in NATS subjects (`live.<stream>.slice.<n>.<crew>.done`), so no dots,
 * wildcards or spaces; they start with a letter so they never look like a slice number.
 */
export const CREW_ID_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
/** Kinds with this prefix are live-crew's own (`__error`, `__context`, `__hb`). */
export const RESERVED_KIND_PREFIX = '__';

/** True for a kind a user may send or emit. */
export function isUserKind(kind: string): boolean {
  return KIND_PATTERN.test(kind) && !kind.startsWith(RESERVED_KIND_PREFIX);
}

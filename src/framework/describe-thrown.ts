/** The longest description of a thrown value kept in an error record. */
const MAX_DESCRIPTION = 1000;

/**
 * What a handler threw, as text for its error record, whatever it threw: an Error (its
 * message), a string, or any value, even one whose `message` getter or `toString` throws, or
 * that has no prototype at all. Never throws.
 */
export function describeThrown(thrown: unknown): string {
  const text = attempt(() => (thrown instanceof Error ? String(thrown.message) : undefined)) ?? attempt(() => String(thrown)) ?? fallback(thrown);
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION)}…` : text;
}

function attempt(describe: () => string | undefined): string | undefined {
  try {
    return describe();
  } catch {
    return undefined;
  }
}

/** A value that cannot describe itself: its class name, if even that can be read. */
function fallback(thrown: unknown): string {
  const name = attempt(() => {
    const proto: unknown = Object.getPrototypeOf(thrown);
    if (proto === null) return 'an object without a prototype';
    const ctor = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof ctor === 'string' && ctor.length > 0 ? `a thrown ${ctor} that cannot be shown` : undefined;
  });
  const type = typeof thrown;
  return `(${name ?? `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} that cannot be shown`})`;
}

/**
 * Whether a thrown value is an instance of `type`, asked without trusting it: `instanceof` walks
 * the value's prototype chain, which a Proxy may trap (and throw from) and a revoked Proxy refuses.
 */
export function isThrownInstance<T>(thrown: unknown, type: abstract new (...args: never[]) => T): thrown is T {
  try {
    return thrown instanceof type;
  } catch {
    return false;
  }
}

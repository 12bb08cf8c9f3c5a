/**
 * The versions of something a crew reloads while it runs (DESIGN §9: a YAML crew's behaviour, its
 * reloadable knobs): the one it started with, then each reload, in force per stream from the
 * slice after the last one the crew had a call in when it was reloaded (a stream it had not seen
 * yet gets it throughout). That point is the reload's journaled decision: a replay installs the
 * same versions at the same slices.
 */
export class Versions<T> {
  readonly #versions: Array<{ readonly value: T; readonly from: ReadonlyMap<string, number> }>;
  /** The highest slice the crew has had a call in, per stream. */
  readonly #seen = new Map<string, number>();

  constructor(initial: T) {
    this.#versions = [{ value: initial, from: new Map() }];
  }

  /** The version in force for a call of `slice` on `streamId`; notes the call. */
  forCall(streamId: string, slice: number): T {
    if (slice > (this.#seen.get(streamId) ?? Number.NEGATIVE_INFINITY)) this.#seen.set(streamId, slice);
    for (let index = this.#versions.length - 1; index > 0; index--) {
      const { value, from } = this.#versions[index]!;
      if (slice >= (from.get(streamId) ?? Number.NEGATIVE_INFINITY)) return value;
    }
    return this.#versions[0]!.value;
  }

  /** The version a reload now would replace: the newest. */
  get latest(): T {
    return this.#versions[this.#versions.length - 1]!.value;
  }

  /** Where a reload now would start, per stream: what its journal entry records. */
  reloadPoint(): Record<string, number> {
    return Object.fromEntries([...this.#seen].map(([stream, slice]) => [stream, slice + 1]));
  }

  /** Installs a version from `from` (a reload now, or one the journal recorded). */
  install(value: T, from: Readonly<Record<string, number>>): void {
    this.#versions.push({ value, from: new Map(Object.entries(from)) });
  }
}

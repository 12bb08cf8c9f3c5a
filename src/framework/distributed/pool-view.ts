// What a pool of workers and runner groups is doing (DESIGN §12), as `live-crew pool --json` prints
// it and the dev dashboard shows it. Plain data: the dashboard's page reads these shapes too.

/** A live member of the pool: its id and the streams it owns. */
export interface PoolMemberView {
  readonly id: string;
  readonly owned: number;
  readonly streams: readonly string[];
}

/** A stream of the pool: how many events it has, what it is doing, and who serves it. */
export interface PoolStreamView {
  readonly id: string;
  readonly events: number;
  readonly state: 'active' | 'finished' | 'idle';
  /** The worker that owns it; null for none. */
  readonly worker: string | null;
  /** Each runner group's runner serving it, by group. */
  readonly runners: Readonly<Record<string, string>>;
}

/** The pool as its bucket and `LIVE_EVENTS` say. */
export interface PoolView {
  /** Live workers (a beat good now), by id. */
  readonly workers: readonly PoolMemberView[];
  /** Runner groups with a live runner, by name, each runner's streams. */
  readonly groups: ReadonlyArray<{ readonly group: string; readonly runners: readonly PoolMemberView[] }>;
  /** Streams with events stored. */
  readonly streams: number;
  /** Those neither finished nor idle: what the workers share. */
  readonly active: number;
  readonly finished: number;
  readonly idle: number;
  /** Active streams no live worker owns: waiting for a claim (a worker just died, or none is up). */
  readonly unowned: readonly string[];
  /** Every stream, by id. */
  readonly list: readonly PoolStreamView[];
}

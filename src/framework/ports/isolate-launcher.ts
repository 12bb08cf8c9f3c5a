/**
 * Where isolated crews run (DESIGN §8): a worker thread or a child process, started by an
 * adapter. The core speaks the isolation protocol over the link it is given.
 */

/** How an isolate is started. */
export interface IsolateLaunch {
  readonly kind: 'worker' | 'process';
  /** Its heap limit in MiB; undefined: the runtime's default. */
  readonly memoryLimitMb?: number;
  /** `process`: the paths it may write to; nothing else is writable. */
  readonly allowWrite: readonly string[];
}

/** What an isolate tells the core, as it happens. */
export interface IsolateEvents {
  /** A message it sent (checked by the core: it may be anything). */
  message(message: unknown): void;
  /** An error it reported before ending (out of memory, an exception nothing caught). */
  error(error: unknown): void;
  /** It ended: `how` says so (`exited with code 1`, `was killed by SIGKILL`). */
  exit(how: string): void;
  /** A line the crew wrote to its stdout or stderr: it never reaches the app's own (where actions go). */
  printed(stream: 'stdout' | 'stderr', line: string): void;
}

/** A running isolate, as the core talks to it. */
export interface IsolateLink {
  send(message: unknown): void;
  /** Ends it now, whatever it is doing. */
  kill(): void;
  /** Resolves once everything it printed was read (after it exited). */
  readonly drained: Promise<void>;
}

/** Starts isolates. */
export interface IsolateLauncher {
  launch(launch: IsolateLaunch, events: IsolateEvents): IsolateLink;
}

/** The isolate's end of its link: what the program running in it sends and receives through. */
export interface IsolateChannel {
  send(message: unknown): void;
  on(listener: (message: unknown) => void): void;
}

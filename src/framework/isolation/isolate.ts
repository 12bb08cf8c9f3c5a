import type { IsolateLauncher, IsolateLink } from '../ports/isolate-launcher.js';
import { messages } from '../messages.js';
import { describeThrown } from '../describe-thrown.js';
import { FrameworkVerdict } from '../runtime/framework-verdict.js';
import { IsolateReportSchema, type IsolateInit, type IsolatedCall, type RequestAnswer, type CrewHostRequest, type CrewCalled, type IsolateReport } from '../runner-protocol.js';

/** How an isolated crew runs: in a worker thread or a child process, with its limits. */
export interface IsolateSpec {
  readonly kind: 'worker' | 'process';
  /** What it is told first; its `memoryLimitMb` bounds its heap here, and its heap and buffers together there. */
  readonly init: IsolateInit;
  /** `process`: the paths it may write to; nothing else is writable. */
  readonly allowWrite: readonly string[];
  /** Told each line the crew writes to its stdout or stderr: they never reach the app's own (where actions go). */
  readonly printed: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Starts the worker thread or child process. */
  readonly launcher: IsolateLauncher;
}

/** The call an isolate is running, and how to end it. */
interface Running {
  readonly id: number;
  readonly resolve: (outcome: CrewCalled) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One worker thread or child process running one crew, one call at a time (DESIGN §8). It can
 * be ended at any moment, which is what makes `timeoutMs` a hard limit: a call whose signal
 * aborts ends its isolate, and a call whose isolate dies (out of memory, `process.exit`, an
 * exception nothing caught) fails with what happened.
 */
export class Isolate {
  readonly #spec: IsolateSpec;
  readonly #link: IsolateLink;
  #running: Running | undefined;
  /** Why it ended; undefined while it lives. */
  #ended: string | undefined;
  /** Set once it is being killed: it takes no further call. */
  #killed = false;
  /** The first error a worker reported before exiting (out of memory, an uncaught exception). */
  #error: unknown;
  #started: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  readonly #exited: Promise<void>;
  /** Told of output or a fault that escaped call `id` after it ended. */
  onStray: ((id: number, error: string) => void) | undefined;
  /** Answers what a handler in the isolate asks the app (a model call, a recorded effect); the answer is sent back. */
  onRequest: ((request: CrewHostRequest) => Promise<RequestAnswer>) | undefined;

  private constructor(spec: IsolateSpec) {
    this.#spec = spec;
    let exited!: () => void;
    const exit = new Promise<void>((resolve) => (exited = resolve));
    const onExit = (how: string) => {
      this.#end(how);
      exited();
    };
    const { kind, init, allowWrite } = spec;
    this.#link = spec.launcher.launch(
      { kind, allowWrite, ...(init.memoryLimitMb !== undefined ? { memoryLimitMb: init.memoryLimitMb } : {}) },
      {
        message: (message) => this.#received(message),
        error: (error) => {
          this.#error ??= error;
        },
        exit: onExit,
        printed: spec.printed,
      },
    );
    // Ended once it exited and everything it printed was read.
    this.#exited = Promise.all([exit, this.#link.drained]).then(() => undefined);
  }

  /**
   * Starts an isolate and waits until its crew is constructed.
   *
   * @throws FrameworkVerdict naming the crew and why it could not start (its module, its constructor)
   */
  static async start(spec: IsolateSpec): Promise<Isolate> {
    const isolate = new Isolate(spec);
    await new Promise<void>((resolve, reject) => {
      isolate.#started = { resolve, reject };
      isolate.#link.send(spec.init);
    });
    return isolate;
  }

  /** Whether it is still running (not ended, crashed or killed). */
  get alive(): boolean {
    return this.#ended === undefined && !this.#killed;
  }

  /** Runs a call; `signal` aborting ends the isolate and the call with it. */
  call(call: Omit<IsolatedCall, 'type' | 'id'>, id: number, signal: AbortSignal): Promise<CrewCalled> {
    if (this.#ended !== undefined) return Promise.reject(new FrameworkVerdict(this.#ended));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason);
        this.kill();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(then: (value: T) => void) =>
        (value: T) => {
          signal.removeEventListener('abort', onAbort);
          this.#running = undefined;
          then(value);
        };
      this.#running = { id, resolve: settle(resolve), reject: settle(reject) };
      this.#link.send({ type: 'call', id, ...call } satisfies IsolatedCall);
    });
  }

  /** Ends it now (a worker is terminated, a child process SIGKILLed); resolves once it has exited. */
  kill(): Promise<void> {
    if (this.#ended === undefined && !this.#killed) this.#link.kill();
    this.#killed = true;
    return this.#exited;
  }

  #received(raw: unknown): void {
    const parsed = IsolateReportSchema.safeParse(raw);
    if (!parsed.success) {
      this.#end(messages.isolateSentGarbage(this.#spec.init.crewId, this.#spec.kind));
      return;
    }
    const message: IsolateReport = parsed.data;
    switch (message.type) {
      case 'ready':
        this.#started?.resolve();
        this.#started = undefined;
        return;
      case 'fatal':
        // Before it started: why it could not; during a call (over its memory): why the call fails.
        this.#error ??= new Error(message.error);
        this.#started?.reject(new FrameworkVerdict(message.error));
        this.#started = undefined;
        this.kill();
        return;
      case 'stray':
        this.onStray?.(message.id, message.error);
        return;
      case 'model':
      case 'effect':
      case 'effect-outcome':
      case 'embed':
      case 'vectors':
        void this.onRequest?.(message).then((answer) => this.#link.send(answer));
        return;
      case 'called':
        if (this.#running?.id === message.id) this.#running.resolve(message);
        return;
      case 'failed':
        if (this.#running?.id === message.id) this.#running.reject(new Error(message.error));
        return;
      default:
        // Every message type is handled above: a new one fails to compile here until it is.
        message satisfies never;
    }
  }

  /** It ended (`how`: exited, killed, misbehaved): what waited on it fails with that. */
  #end(how: string): void {
    if (this.#ended !== undefined) return;
    const detail = this.#error === undefined ? how : `${how}: ${describeThrown(this.#error)}`;
    this.#ended = messages.isolateEnded(this.#spec.init.crewId, this.#spec.kind, detail);
    this.#started?.reject(new FrameworkVerdict(this.#ended));
    this.#running?.reject(new FrameworkVerdict(this.#ended));
    this.#link.kill();
  }
}

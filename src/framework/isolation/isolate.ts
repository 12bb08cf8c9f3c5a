import type { IsolateLauncher, IsolateLink } from '../ports/isolate-launcher.js';
import { messages } from '../messages.js';
import { describeThrown } from '../describe-thrown.js';
import { FrameworkVerdict } from '../runtime/framework-verdict.js';
import { IsolateReportSchema, type IsolateInit, type IsolatedCall, type RequestAnswer, type CrewHostRequest, type CrewCalled, type IsolateReport } from '../runner-protocol.js';
import type { ContextSnapshot } from '../model/committed-context.js';

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

/** How a call sent to an isolate ended there: it ran (what it did), or it was not run. */
export type IsolateOutcome = { readonly ran: true; readonly called: CrewCalled } | { readonly ran: false };

/** A call sent and not answered yet, and how to end it. */
interface Running {
  readonly resolve: (outcome: IsolateOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One worker thread or child process running one crew, one call at a time, a lane's calls sent
 * to it together (DESIGN §8). It can be ended at any moment, which is what makes `timeoutMs` a
 * hard limit: a call whose signal aborts ends its isolate, and a call whose isolate dies (out of
 * memory, `process.exit`, an exception nothing caught) fails with what happened.
 */
export class Isolate {
  readonly #spec: IsolateSpec;
  readonly #link: IsolateLink;
  /** The calls sent and not answered yet, by id. */
  readonly #running = new Map<number, Running>();
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

  /**
   * Sends calls of one lane in one slice, run in order on `context` (`IsolatedCalls`). Returns
   * how each ends, in order: its outcome, not run, or a failure (its handler threw, or the isolate
   * ended first).
   */
  run(calls: readonly IsolatedCall[], context: ContextSnapshot): Promise<IsolateOutcome>[] {
    if (this.#ended !== undefined) {
      const ended = this.#ended;
      return calls.map(() => Promise.reject(new FrameworkVerdict(ended)));
    }
    const outcomes = calls.map((call) => new Promise<IsolateOutcome>((resolve, reject) => this.#running.set(call.id, { resolve, reject })));
    this.#link.send({ type: 'calls', calls, context });
    return outcomes;
  }

  /** Call `id` is given up (its timeout, a stop): it fails with `reason`, and the isolate, busy with it, ends. */
  abandon(id: number, reason: unknown): void {
    const running = this.#take(id);
    if (running === undefined) return;
    running.reject(reason);
    void this.kill();
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
      case 'ran':
        for (const result of message.results) {
          const running = this.#take(result.id);
          if (result.outcome === 'called') running?.resolve({ ran: true, called: result });
          else running?.reject(new Error(result.error));
        }
        for (const id of message.unrun) this.#take(id)?.resolve({ ran: false });
        return;
      default:
        // Every message type is handled above: a new one fails to compile here until it is.
        message satisfies never;
    }
  }

  #take(id: number): Running | undefined {
    const running = this.#running.get(id);
    this.#running.delete(id);
    return running;
  }

  /** It ended (`how`: exited, killed, misbehaved): what waited on it fails with that. */
  #end(how: string): void {
    if (this.#ended !== undefined) return;
    const detail = this.#error === undefined ? how : `${how}: ${describeThrown(this.#error)}`;
    this.#ended = messages.isolateEnded(this.#spec.init.crewId, this.#spec.kind, detail);
    this.#started?.reject(new FrameworkVerdict(this.#ended));
    const running = [...this.#running.values()];
    this.#running.clear();
    for (const call of running) call.reject(new FrameworkVerdict(this.#ended));
    this.#link.kill();
  }
}

import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { messages } from '../messages.js';
import { describeThrown } from '../describe-thrown.js';
import { FrameworkVerdict } from '../runtime/framework-verdict.js';
import { IsolateMessageSchema, type IsolateInit, type IsolatedCall, type IsolatedAnswer, type IsolatedRequest, type IsolatedOutcome, type IsolateMessage } from './isolation-protocol.js';

/** The script an isolate runs: beside this module in the build. */
const ISOLATE_MAIN = fileURLToPath(new URL('./isolate-main.js', import.meta.url));

/** How an isolated crew runs: in a worker thread or a child process, with its limits. */
export interface IsolateSpec {
  readonly kind: 'worker' | 'process';
  /** What it is told first; its `memoryLimitMb` bounds its heap here, and its heap and buffers together there. */
  readonly init: IsolateInit;
  /** `process`: the paths it may write to; nothing else is writable. */
  readonly allowWrite: readonly string[];
  /** Told each line the crew writes to its stdout or stderr: they never reach the app's own (where actions go). */
  readonly printed: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** The longest line of a crew's output kept whole; the rest of a longer one is cut. */
const MAX_PRINTED_LINE = 8192;

/** A worker thread or child process, as the app talks to it. */
interface IsolateLink {
  send(message: unknown): void;
  kill(): void;
}

/** The call an isolate is running, and how to end it. */
interface Running {
  readonly id: number;
  readonly resolve: (outcome: IsolatedOutcome) => void;
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
  /** Each of its output streams, until it ends. */
  readonly #printing: Promise<void>[] = [];
  /** Told of output or a fault that escaped call `id` after it ended. */
  onStray: ((id: number, error: string) => void) | undefined;
  /** Answers what a handler in the isolate asks the app (a model call, a recorded effect); the answer is sent back. */
  onRequest: ((request: IsolatedRequest) => Promise<IsolatedAnswer>) | undefined;

  private constructor(spec: IsolateSpec) {
    this.#spec = spec;
    let exited!: () => void;
    const exit = new Promise<void>((resolve) => (exited = resolve));
    const onExit = (how: string) => {
      this.#end(how);
      exited();
    };
    this.#link = spec.kind === 'worker' ? this.#worker(onExit) : this.#process(onExit);
    // Ended once it exited and everything it printed was read.
    this.#exited = Promise.all([exit, ...this.#printing]).then(() => undefined);
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
  call(call: Omit<IsolatedCall, 'type' | 'id'>, id: number, signal: AbortSignal): Promise<IsolatedOutcome> {
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
    const parsed = IsolateMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.#end(messages.isolateSentGarbage(this.#spec.init.crewId, this.#spec.kind));
      return;
    }
    const message: IsolateMessage = parsed.data;
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
      case 'done':
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

  #worker(onExit: (how: string) => void): IsolateLink {
    const limit = this.#spec.init.memoryLimitMb;
    // Its stdout and stderr come here, not to the process's: what a crew prints is no action line.
    const worker = new Worker(ISOLATE_MAIN, { stdout: true, stderr: true, ...(limit !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: limit } } : {}) });
    this.#capture(worker.stdout, worker.stderr);
    worker.on('message', (message: unknown) => this.#received(message));
    worker.on('error', (error) => {
      this.#error ??= error;
    });
    worker.on('exit', (code) => onExit(`exited with code ${code}`));
    return {
      send: (message) => worker.postMessage(message),
      kill: () => void worker.terminate(),
    };
  }

  /** Hands each line the crew writes to `printed`, a line longer than MAX_PRINTED_LINE cut there. */
  #capture(stdout: Readable, stderr: Readable): void {
    for (const [stream, from] of [
      ['stdout', stdout],
      ['stderr', stderr],
    ] as const) {
      let line = '';
      from.setEncoding('utf8');
      from.on('data', (chunk: string) => {
        const lines = (line + chunk).split('\n');
        line = lines.pop()!;
        for (const whole of lines) this.#spec.printed(stream, cut(whole));
        if (line.length > MAX_PRINTED_LINE) {
          this.#spec.printed(stream, cut(line));
          line = '';
        }
      });
      this.#printing.push(
        new Promise((resolve) =>
          from.on('close', () => {
            if (line !== '') this.#spec.printed(stream, cut(line));
            resolve();
          }),
        ),
      );
    }
  }

  #process(onExit: (how: string) => void): IsolateLink {
    const child: ChildProcess = fork(ISOLATE_MAIN, [], {
      execArgv: sandboxFlags(this.#spec),
      serialization: 'json',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.#capture(child.stdout!, child.stderr!);
    child.on('message', (message: unknown) => this.#received(message));
    child.on('error', (error) => {
      this.#error ??= error;
    });
    child.on('exit', (code, signal) => onExit(signal !== null ? `was killed by ${signal}` : `exited with code ${code}`));
    return {
      send: (message) => {
        if (child.connected) child.send(message as never);
      },
      kill: () => void child.kill('SIGKILL'),
    };
  }
}

/**
 * Node's permission model for a crew's child process, where this Node has it: it reads any file
 * (its modules), writes only the allowed paths, and starts no process or worker.
 */
function sandboxFlags(spec: IsolateSpec): string[] {
  const flags = process.allowedNodeEnvironmentFlags;
  const permission = flags.has('--permission') ? '--permission' : flags.has('--experimental-permission') ? '--experimental-permission' : undefined;
  return [
    ...(permission !== undefined ? [permission, '--allow-fs-read=*', ...spec.allowWrite.map((path) => `--allow-fs-write=${resolve(path)}`)] : []),
    ...(flags.has('--disable-warning') ? ['--disable-warning=ExperimentalWarning'] : ['--no-warnings']),
    ...(spec.init.memoryLimitMb !== undefined ? [`--max-old-space-size=${spec.init.memoryLimitMb}`] : []),
  ];
}

function cut(line: string): string {
  return line.length > MAX_PRINTED_LINE ? `${line.slice(0, MAX_PRINTED_LINE)}…` : line;
}

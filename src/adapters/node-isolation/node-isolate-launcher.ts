import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IsolateEvents, IsolateLaunch, IsolateLauncher, IsolateLink } from '../../framework/ports/isolate-launcher.js';

/** The program an isolate runs: beside this module in the build. */
const ISOLATE_MAIN = fileURLToPath(new URL('./isolate-main.js', import.meta.url));

/** The longest line of a crew's output kept whole; the rest of a longer one is cut. */
const MAX_PRINTED_LINE = 8192;

/**
 * Isolates as Node runs them: a worker thread (`resourceLimits` bound its heap) or a child
 * process (Node's permission model, where this Node has it: it reads any file, writes only the
 * allowed paths, starts no process or worker). What the crew prints is captured line by line.
 */
export const nodeIsolates: IsolateLauncher = {
  launch(launch: IsolateLaunch, events: IsolateEvents): IsolateLink {
    return launch.kind === 'worker' ? worker(launch, events) : childProcess(launch, events);
  },
};

function worker(launch: IsolateLaunch, events: IsolateEvents): IsolateLink {
  const limit = launch.memoryLimitMb;
  // Its stdout and stderr come here, not to the process's: what a crew prints is no action line.
  const thread = new Worker(ISOLATE_MAIN, { stdout: true, stderr: true, ...(limit !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: limit } } : {}) });
  const drained = capture(thread.stdout, thread.stderr, events);
  thread.on('message', (message: unknown) => events.message(message));
  thread.on('error', (error) => events.error(error));
  thread.on('exit', (code) => events.exit(`exited with code ${code}`));
  return {
    send: (message) => thread.postMessage(message),
    kill: () => void thread.terminate(),
    drained,
  };
}

function childProcess(launch: IsolateLaunch, events: IsolateEvents): IsolateLink {
  const child: ChildProcess = fork(ISOLATE_MAIN, [], { execArgv: sandboxFlags(launch), serialization: 'json', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const drained = capture(child.stdout as Readable, child.stderr as Readable, events);
  child.on('message', (message: unknown) => events.message(message));
  child.on('error', (error) => events.error(error));
  child.on('exit', (code, signal) => events.exit(signal !== null ? `was killed by ${signal}` : `exited with code ${code}`));
  return {
    send: (message) => {
      if (child.connected) child.send(message as never);
    },
    kill: () => void child.kill('SIGKILL'),
    drained,
  };
}

/** Hands each line the crew writes to `printed`, a line longer than MAX_PRINTED_LINE cut there; resolves when both streams closed. */
function capture(stdout: Readable, stderr: Readable, events: IsolateEvents): Promise<void> {
  const closed = (
    [
      ['stdout', stdout],
      ['stderr', stderr],
    ] as const
  ).map(([stream, from]) => {
    let line = '';
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const lines = (line + chunk).split('\n');
      line = lines.pop() ?? '';
      for (const whole of lines) events.printed(stream, cut(whole));
      if (line.length > MAX_PRINTED_LINE) {
        events.printed(stream, cut(line));
        line = '';
      }
    });
    return new Promise<void>((resolve) =>
      from.on('close', () => {
        if (line !== '') events.printed(stream, cut(line));
        resolve();
      }),
    );
  });
  return Promise.all(closed).then(() => undefined);
}

/** Node's permission model for a crew's child process, where this Node has it, and its heap limit. */
function sandboxFlags(launch: IsolateLaunch): string[] {
  const flags = process.allowedNodeEnvironmentFlags;
  const permission = flags.has('--permission') ? '--permission' : flags.has('--experimental-permission') ? '--experimental-permission' : undefined;
  return [
    ...(permission !== undefined ? [permission, '--allow-fs-read=*', ...launch.allowWrite.map((path) => `--allow-fs-write=${resolve(path)}`)] : []),
    ...(flags.has('--disable-warning') ? ['--disable-warning=ExperimentalWarning'] : ['--no-warnings']),
    ...(launch.memoryLimitMb !== undefined ? [`--max-old-space-size=${launch.memoryLimitMb}`] : []),
  ];
}

function cut(line: string): string {
  return line.length > MAX_PRINTED_LINE ? `${line.slice(0, MAX_PRINTED_LINE)}…` : line;
}

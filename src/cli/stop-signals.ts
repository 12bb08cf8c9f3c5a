/** How long a stopping command may take to wind down (close adapters, drain) before it exits anyway, in ms. */
export const STOP_GRACE_MS = 5000;

/** Exit codes of a process ended by a second signal, as shells report them. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * SIGINT and SIGTERM stop the command: the first calls `stop` (finish what is in flight, close
 * slices, flush), and if the process is still alive `graceMs` later it exits 1 saying so; a
 * second signal exits at once. A stop therefore always ends within a bound, whatever hangs.
 */
export function onStopSignal(stop: () => void, graceMs: number): void {
  let stopping = false;
  const onSignal = (signal: keyof typeof SIGNAL_EXIT) => {
    if (stopping) {
      process.stderr.write(`live-crew: ${signal} again: exiting now, without flushing\n`);
      process.exit(SIGNAL_EXIT[signal]);
    }
    stopping = true;
    stop();
    setTimeout(() => {
      process.stderr.write(`live-crew: still not stopped ${graceMs} ms after ${signal}; exiting (raise stop_timeout_ms if work needs longer)\n`);
      process.exit(1);
    }, graceMs).unref();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
}

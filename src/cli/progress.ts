import type { RunObserver } from '../index.js';

/** How often the progress line is redrawn, in ms. */
const REDRAW_MS = 500;

/**
 * `--progress`: one line on stderr, redrawn twice a second, with events taken in (and their
 * rate), actions and errors sent. Only on a terminal: a pipe or a file gets nothing.
 */
export function progressLine(stream: NodeJS.WriteStream = process.stderr): { observer: RunObserver; stop(): void } | undefined {
  if (!stream.isTTY) return undefined;
  let events = 0;
  let actions = 0;
  let errors = 0;
  const started = Date.now();
  const draw = () => {
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    stream.write(
      `\r${events.toLocaleString('en-US')} events (${Math.round(events / seconds).toLocaleString('en-US')}/s), ${actions.toLocaleString('en-US')} actions, ${errors.toLocaleString('en-US')} errors  `,
    );
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    observer: {
      eventAccepted: () => void events++,
      actionsSent: (sent) => void (actions += sent.length),
      errorsSent: (sent) => void (errors += sent.length),
    },
    stop() {
      clearInterval(timer);
      draw();
      stream.write('\n');
    },
  };
}

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('--progress', () => {
  it('on a terminal: one redrawn line of events (with rate), actions and errors, ended on stop', () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const progress = progressLine(tty)!;
    progress.observer.eventAccepted!({ ts: '2024-01-01T00:00:00.000Z', kind: 'a', stream_id: 's', payload: {} });
    progress.observer.eventAccepted!({ ts: '2024-01-01T00:00:00.000Z', kind: 'a', stream_id: 's', payload: {} });
    progress.observer.actionsSent!([{} as never, {} as never, {} as never]);
    progress.observer.errorsSent!([{} as never]);
    progress.stop();
    expect(written.join('')).toMatch(/^\r2 events \(\d[\d,]*\/s\), 3 actions, 1 errors {2}\n$/);
  });

  it('not on a terminal: nothing, and stderr keeps only the error records', () => {
    expect(progressLine({ isTTY: false } as NodeJS.WriteStream)).toBeUndefined();
    const hello = join(ROOT, 'examples/hello-world');
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'run', join(hello, 'events.jsonl'), '--crews', join(hello, 'dist/crews.js'), '--progress'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).kind),
    ).toEqual(['__error']);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { own } from '../../bench/owned-children.js';

/** A child that runs until it is killed. */
function sleeper(): ChildProcess {
  return own(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
}

function running(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Waits for `child` to exit, however long the kill takes to reach it. */
function exited(child: ChildProcess): Promise<unknown> {
  return running(child) ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve();
}

describe('every process a test starts ends with the test (test/setup.ts)', () => {
  let passed: ChildProcess | undefined;
  let timedOut: ChildProcess | undefined;

  it('a test that passes with its process still running', () => {
    passed = sleeper();
    expect(running(passed)).toBe(true);
  });

  it('…leaves nothing running', async () => {
    await exited(passed!);
    expect(passed!.signalCode).toBe('SIGKILL');
  });

  it.fails('a test that times out with its process still running', { timeout: 200 }, async () => {
    timedOut = sleeper();
    await new Promise(() => {});
  });

  it('…leaves nothing running either', async () => {
    await exited(timedOut!);
    expect(timedOut!.signalCode).toBe('SIGKILL');
  });
});

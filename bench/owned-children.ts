import type { ChildProcess } from 'node:child_process';

/**
 * The child processes a test or a bench started (servers, CLIs), so none outlives what started
 * it: each is killed when its owner ends (a test, through `killOwnedBy`), and every one left is
 * killed when this process exits, whatever the reason.
 */
const alive = new Map<ChildProcess, string | undefined>();
/** Who owns what is started now: a test while one runs (set by the test setup), else nobody in particular. */
let owner: string | undefined;

process.once('exit', () => {
  for (const child of alive.keys()) child.kill('SIGKILL');
});

/** Keeps `child` until it exits, as started by the current owner. */
export function own<T extends ChildProcess>(child: T): T {
  return ownAs(child, owner);
}

/** Keeps `child` until it exits, as started by `by` (undefined: the file, or the bench). */
export function ownAs<T extends ChildProcess>(child: T, by: string | undefined): T {
  alive.set(child, by);
  child.once('exit', () => alive.delete(child));
  return child;
}

/** Who owns what is started now. */
export function currentOwner(): string | undefined {
  return owner;
}

/** Says who owns what is started from now on (undefined: the file, or the bench). */
export function ownedBy(name: string | undefined): void {
  owner = name;
}

/** Kills what `name` started and left running, and waits until it has exited. */
export async function killOwnedBy(name: string): Promise<void> {
  const left = [...alive].filter(([child, by]) => by === name && child.exitCode === null && child.signalCode === null).map(([child]) => child);
  await Promise.all(
    left.map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      return exited;
    }),
  );
}

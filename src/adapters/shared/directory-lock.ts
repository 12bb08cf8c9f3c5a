import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The file in a data directory that says which process has it open. */
const LOCK_FILE = 'live-crew.lock';

/** Who holds a directory, as its lock file says. */
export interface DirectoryHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly command: string;
}

/** A directory this process holds until `release`. */
export interface DirectoryLock {
  release(): void;
}

/**
 * Takes a data directory for this process alone (an embedded database that two processes would
 * corrupt): a lock file made exclusively, naming this process. Two processes finding the same
 * stale lock at the same moment may both take it; a start after a crash is not that moment. One whose process is gone (it
 * crashed, or was killed) is taken over; one held by a live process, or by a process on another
 * host (whose life cannot be checked from here), is not.
 *
 * @returns the lock, or who holds the directory
 */
export function lockDirectory(dir: string): DirectoryLock | { readonly heldBy: DirectoryHolder | undefined } {
  const path = join(dir, LOCK_FILE);
  const mine: DirectoryHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command: process.argv.slice(1).join(' ').slice(0, 300) };
  // Written whole beside it, then linked into place: the lock file never exists without its holder.
  const draft = `${path}.${process.pid}`;
  writeFileSync(draft, JSON.stringify(mine));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(draft, path);
        return { release: () => (readHolder(path)?.pid === process.pid ? rmSync(path, { force: true }) : undefined) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readHolder(path);
      if (holder !== undefined && (holder.host !== hostname() || isRunning(holder.pid))) return { heldBy: holder };
      // Its process is gone, or the file is not one this code wrote: a stale lock.
      rmSync(path, { force: true });
    }
    return { heldBy: readHolder(path) };
  } finally {
    rmSync(draft, { force: true });
  }
}

function readHolder(path: string): DirectoryHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<DirectoryHolder>;
    if (typeof holder.pid !== 'number' || typeof holder.host !== 'string') return undefined;
    return { pid: holder.pid, host: holder.host, since: String(holder.since), command: String(holder.command) };
  } catch {
    return undefined;
  }
}

/** Whether a process of this host runs under `pid` (one of another user's counts too). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

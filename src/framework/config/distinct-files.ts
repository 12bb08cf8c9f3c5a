import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { messages } from '../messages.js';

/** A file a command reads or writes: how the user named it (`--out`), and the path; `-` (stdin, stdout) and none are no file. */
export type NamedFile = readonly [name: string, path: string | null | undefined];

/**
 * Refuses two files of a run that are one file (after resolving links): writing actions over the
 * events being read, or errors over the actions, would destroy one of them without a word.
 * Nothing is opened, so nothing is lost.
 *
 * @throws UsageError naming both and the file
 */
export function checkDistinctFiles(files: readonly NamedFile[]): void {
  const seen = new Map<string, string>();
  for (const [name, path] of files) {
    if (path === null || path === undefined || path === '-') continue;
    const file = identity(path);
    // A device or a pipe (`/dev/null` for both outputs) is no file one write could destroy.
    if (file === undefined) continue;
    const earlier = seen.get(file);
    if (earlier !== undefined) throw new UsageError(messages.sameFile(earlier, name, path));
    seen.set(file, name);
  }
}

/** The files of a run's configuration, named as the `run` command's options name them. */
export function runFiles(config: {
  readonly input: string;
  readonly output: string;
  readonly errors: string;
  readonly context_out: string | null;
  readonly journal: string | null;
  readonly replay: string | null;
}): NamedFile[] {
  return [
    ['the events file (input)', config.input],
    ['--out (output)', config.output],
    ['--errors (errors)', config.errors],
    ['--context-out (context_out)', config.context_out],
    ['--journal (journal)', config.journal],
    ['--replay (replay)', config.replay],
  ];
}

/**
 * What a file is, whatever names it: an existing file's device and inode (symbolic and hard links,
 * `./a/../b`), else the path it would be made at, its folder's links resolved; undefined for
 * something that is no regular file (a device, a pipe, a folder).
 */
function identity(path: string): string | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? `inode ${stat.dev}:${stat.ino}` : undefined;
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

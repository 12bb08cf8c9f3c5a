import 'reflect-metadata';
import { afterEach, beforeEach } from 'vitest';
import { killOwnedBy, ownedBy } from '../bench/owned-children.js';

// match-day's pundit simulates a 1-2 s model call; the tests that do not time it run it at once
// (one test runs it at its real speed). Spawned CLIs and isolates inherit this.
process.env['MATCH_DAY_PUNDIT_MS'] ??= '0';

// Every process a test starts (through `own`) is killed when the test ends, passed, failed or
// timed out; what a suite starts before its tests is killed with the file's process.
beforeEach((context) => ownedBy(context.task.id));
afterEach(async (context) => {
  ownedBy(undefined);
  await killOwnedBy(context.task.id);
});

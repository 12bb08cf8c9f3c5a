import 'reflect-metadata';

// match-day's pundit simulates a 1-2 s model call; the tests that do not time it run it at once
// (one test runs it at its real speed). Spawned CLIs and isolates inherit this.
process.env['MATCH_DAY_PUNDIT_MS'] ??= '0';

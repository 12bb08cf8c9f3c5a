import { z } from 'zod';
import { regexPattern } from './regex-pattern.js';

/** A runner group's name: it ends subjects and KV keys (`runner.<group>.<id>`). */
export const RUNNER_GROUP_PATTERN = /^[a-zA-Z0-9_-]{1,32}$/;

/**
 * The work group of the crews no runner group names: their work goes to
 * `live.<stream>.work.default`, for the process that owns the stream or a runner with a selector.
 */
export const DEFAULT_WORK_GROUP = 'default';

/** `runners:`, runner groups by name: `{ slow: { crews: 'commentary|summary' } }`. */
export const RunnerGroupsSchema = z.record(
  z
    .string()
    .regex(RUNNER_GROUP_PATTERN, { error: 'a runner group name must be 1-32 letters, digits, _ or -' })
    .refine((name) => name !== DEFAULT_WORK_GROUP, { error: `${DEFAULT_WORK_GROUP} names the crews no runner group names: choose another name` }),
  z.strictObject({ crews: regexPattern('matching whole crew ids') }),
  { error: 'must map runner group names (1-32 letters, digits, _ or -) to { crews: <regex> }' },
);

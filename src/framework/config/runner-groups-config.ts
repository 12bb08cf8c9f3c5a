import { z } from 'zod';
import { regexPattern } from './regex-pattern.js';

/** A runner group's name: it ends subjects and KV keys (`runner.<group>.<id>`). */
export const RUNNER_GROUP_PATTERN = /^[a-zA-Z0-9_-]{1,32}$/;

/** `runners:`, runner groups by name: `{ slow: { crews: 'commentary|summary' } }`. */
export const RunnerGroupsSchema = z.record(
  z.string().regex(RUNNER_GROUP_PATTERN, { error: 'a runner group name must be 1-32 letters, digits, _ or -' }),
  z.strictObject({ crews: regexPattern('matching whole crew ids') }),
  { error: 'must map runner group names (1-32 letters, digits, _ or -) to { crews: <regex> }' },
);

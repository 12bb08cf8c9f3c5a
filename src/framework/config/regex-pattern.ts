import { z } from 'zod';

/** A config string that must compile as a regular expression; `what` says what it is for. */
export function regexPattern(what: string) {
  return z.string({ error: `must be a regular expression (${what})` }).refine(
    (pattern) => {
      try {
        new RegExp(pattern);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'must be a valid regular expression' },
  );
}

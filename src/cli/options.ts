import { InvalidArgumentError } from 'commander';

/** `--pace <factor>`: a number > 0. */
export function parsePace(value: string): number {
  const pace = Number(value);
  if (!Number.isFinite(pace) || pace <= 0) throw new InvalidArgumentError('must be a number > 0, e.g. 1 or 10');
  return pace;
}

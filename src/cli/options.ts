import { InvalidArgumentError } from 'commander';

/** `--pace <factor>`: a number > 0. */
export function parsePace(value: string): number {
  const pace = Number(value);
  if (!Number.isFinite(pace) || pace <= 0) throw new InvalidArgumentError('must be a number > 0, e.g. 1 or 10');
  return pace;
}

/** `--metrics-port <port>`: 0-65535 (0: any free port). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('must be a port number, 0-65535');
  return port;
}

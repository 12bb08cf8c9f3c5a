import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { LogFields, Logger } from '../../framework/ports/logger.js';

/** Options of `pinoLogger`. */
export interface PinoLoggerOptions {
  /** The lowest level written (`log_level`). */
  readonly level: string;
  /** Where lines go; default stderr (stdout carries actions in file mode). */
  readonly destination?: DestinationStream;
}

/**
 * JSON log lines through pino (DESIGN §6): `{"level":"info","ts":"…","msg":"…", stream, slice,
 * crew, t_ms, …}`, one per line on stderr. For a terminal, pipe them through pino-pretty
 * (`… 2> >(npx pino-pretty)`).
 */
export function pinoLogger(options: PinoLoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level,
      base: null,
      messageKey: 'msg',
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
  return wrap(logger);
}

function wrap(logger: Pino): Logger {
  return {
    debug: (fields: LogFields, msg: string) => logger.debug(fields, msg),
    info: (fields: LogFields, msg: string) => logger.info(fields, msg),
    warn: (fields: LogFields, msg: string) => logger.warn(fields, msg),
    error: (fields: LogFields, msg: string) => logger.error(fields, msg),
    child: (fields: LogFields) => wrap(logger.child(fields)),
  };
}

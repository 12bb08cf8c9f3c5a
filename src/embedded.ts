/**
 * `live-crew/embedded`: the adapters of the embedded defaults (file and stdin input, console and
 * file output, context in memory, the JSONL decision journal, pino logs), to compose by hand.
 * Configuration selects them by name without this import.
 */
export { FileEventSource, fileEventSource, type FileEventSourceOptions, type InputFormat } from './adapters/file/file-event-source.js';
export { JsonlSink } from './adapters/file/jsonl-sink.js';
export { fileActionSink, fileErrorSink } from './adapters/file/file-sinks.js';
export { consoleActionSink, consoleErrorSink } from './adapters/console/console-sinks.js';
export { MemoryContextBackend } from './adapters/memory/memory-context-backend.js';
export { JsonlDecisionJournal, type JsonlDecisionJournalOptions } from './adapters/file/jsonl-decision-journal.js';
export { pinoLogger, type PinoLoggerOptions } from './adapters/pino/pino-logger.js';

/**
 * Registers the adapters this package ships, so configuration can select them by name. The
 * package entries import this module; the framework core never does. The embedded adapters
 * (file, console, memory) are made here; the others are registered by module, so NATS, Redis,
 * Prometheus, pino, the AI SDK and the vector stores load only when a configuration chooses them.
 */
import { registerAdapter, registerAdapterModule } from '../framework/adapter-registry.js';
import { registerAppScheduler } from '../framework/app.js';
import { consoleActionSink, consoleErrorSink } from './console/console-sinks.js';
import { fileActionSink, fileContextSink, fileErrorSink } from './file/file-sinks.js';
import { fileEventSource } from './file/file-event-source.js';
import { JsonlDecisionJournal } from './file/jsonl-decision-journal.js';
import { MemoryContextBackend } from './memory/memory-context-backend.js';
import { MemoryVectorStore } from './memory/memory-vector-store.js';
import { ConfigError } from '../framework/errors.js';
import { messages } from '../framework/messages.js';
import type { LiveCrewConfig } from '../framework/config/config-schema.js';

/** The journal is a JSONL file whatever the transport (keeping it in JetStream is issue 5's). */
const fileJournal = (config: LiveCrewConfig) => new JsonlDecisionJournal({ recordTo: config.journal, replayFrom: config.replay });

/** Qdrant's API key from the env var `vector.api_key_env` names. */
function qdrantApiKey(env: string | undefined): { apiKey?: string } {
  if (env === undefined) return {};
  const apiKey = process.env[env];
  if (!apiKey) throw new ConfigError(messages.vectorApiKeyUnset(env));
  return { apiKey };
}

/** The path that means the standard stream (stdin, stdout or stderr). */
const STANDARD_STREAM = '-';

registerAdapter('source', 'file', (config) => fileEventSource(config.input, config));
registerAdapter('actions', 'file', (config) => (config.output === STANDARD_STREAM ? consoleActionSink() : fileActionSink(config.output)));
registerAdapter('errors', 'file', (config) => (config.errors === STANDARD_STREAM ? consoleErrorSink() : fileErrorSink(config.errors)));
registerAdapter('journal', 'file', fileJournal);
registerAdapter('journal', 'nats', fileJournal);
registerAdapter('context', 'memory', () => new MemoryContextBackend());
registerAdapter('contextOut', 'file', (config) => fileContextSink(config.context_out!));
registerAdapter('vectors', 'memory', () => new MemoryVectorStore());
registerAdapterModule('isolates', 'node', async () => {
  const { nodeIsolates } = await import('./node-isolation/node-isolate-launcher.js');
  return () => nodeIsolates;
});

const nats = () => import('./nats/nats-adapters.js');
registerAdapterModule('source', 'nats', async () => (await nats()).natsEventSource);
registerAdapterModule('actions', 'nats', async () => (await nats()).natsActionSink);
registerAdapterModule('errors', 'nats', async () => (await nats()).natsErrorSink);
registerAdapterModule('contextOut', 'nats', async () => (await nats()).natsContextBroadcast);
registerAdapterModule('context', 'jetstream', async () => (await nats()).jetStreamContextBackend);
registerAdapterModule('context', 'redis', async () => {
  const { RedisContextBackend } = await import('./redis/redis-context-backend.js');
  return (config) => new RedisContextBackend(config.redis_url);
});
registerAdapterModule('monitor', 'prometheus', async () => {
  const { PrometheusMonitor } = await import('./prometheus/prometheus-monitor.js');
  return (config) => new PrometheusMonitor(config.metrics_port ?? undefined);
});
registerAdapterModule('logger', 'pino', async () => {
  const { pinoLogger } = await import('./pino/pino-logger.js');
  return (config) => pinoLogger({ level: config.log_level });
});
registerAdapterModule('models', 'ai-sdk', async () => {
  const { AiSdkModelProvider } = await import('./ai/ai-sdk-model-provider.js');
  return (config) => new AiSdkModelProvider(config.models, config.embedders);
});
registerAdapterModule('vectors', 'pglite', async () => {
  const { PGliteVectorStore } = await import('./postgres/pglite-vector-store.js');
  return (config) => new PGliteVectorStore(config.vector?.path !== undefined ? { path: config.vector.path } : {});
});
registerAdapterModule('vectors', 'pgvector', async () => {
  const { PgVectorStore } = await import('./postgres/pg-vector-store.js');
  return (config) => new PgVectorStore(config.vector!.url!);
});
registerAdapterModule('vectors', 'qdrant', async () => {
  const { QdrantVectorStore } = await import('./qdrant/qdrant-vector-store.js');
  return (config) => new QdrantVectorStore({ url: config.vector!.url!, ...qdrantApiKey(config.vector!.api_key_env) });
});

// `scheduler: nats`: an app is one worker of a pool serving every stream (DESIGN §12).
registerAppScheduler('nats', async () => (await import('./nats/stream-worker.js')).poolWorkerApp);

/**
 * Registers the adapters this package ships, so configuration can select them by name. The
 * package entries import this module; the framework core never does.
 */
import { registerAdapter } from '../framework/adapter-registry.js';
import { consoleActionSink, consoleErrorSink } from './console/console-sinks.js';
import { fileActionSink, fileContextSink, fileErrorSink } from './file/file-sinks.js';
import { NatsContextBroadcast } from './nats/context-broadcast.js';
import { fileEventSource } from './file/file-event-source.js';
import { JsonlDecisionJournal } from './file/jsonl-decision-journal.js';
import { MemoryContextBackend } from './memory/memory-context-backend.js';
import { MemoryVectorStore } from './memory/memory-vector-store.js';
import { PGliteVectorStore } from './postgres/pglite-vector-store.js';
import { PgVectorStore } from './postgres/pg-vector-store.js';
import { QdrantVectorStore } from './qdrant/qdrant-vector-store.js';
import { ConfigError } from '../framework/errors.js';
import { messages } from '../framework/messages.js';
import { JetStreamContextBackend } from './nats/jetstream-context-backend.js';
import { RedisContextBackend } from './redis/redis-context-backend.js';
import { JetStreamEventSource, JetStreamSink, NatsLink } from './nats/jetstream-transport.js';
import { natsConnectOptions } from './nats/nats-connect.js';
import type { LiveCrewConfig } from '../framework/config/config-schema.js';
import { PrometheusMonitor } from './prometheus/prometheus-monitor.js';
import { pinoLogger } from './pino/pino-logger.js';
import { AiSdkModelProvider } from './ai/ai-sdk-model-provider.js';

/** One NATS connection per app: its source and sinks share it (an app's ports get one config object). */
const natsLinks = new WeakMap<LiveCrewConfig, NatsLink>();
function natsLinkFor(config: LiveCrewConfig): NatsLink {
  let link = natsLinks.get(config);
  if (link === undefined) {
    link = new NatsLink(natsConnectOptions(config));
    natsLinks.set(config, link);
  }
  return link;
}

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
registerAdapter('source', 'nats', (config) => new JetStreamEventSource(natsLinkFor(config), { durable: config.nats_consumer }));
registerAdapter('actions', 'nats', (config) => JetStreamSink.forActions(natsLinkFor(config)));
registerAdapter('errors', 'nats', (config) => JetStreamSink.forErrors(natsLinkFor(config)));
registerAdapter('journal', 'nats', fileJournal);
registerAdapter('context', 'memory', () => new MemoryContextBackend());
registerAdapter('context', 'redis', (config) => new RedisContextBackend(config.redis_url));
registerAdapter('context', 'jetstream', (config) => new JetStreamContextBackend(natsConnectOptions(config)));
registerAdapter('journal', 'file', fileJournal);
registerAdapter('monitor', 'prometheus', (config) => new PrometheusMonitor(config.metrics_port ?? undefined));
registerAdapter('logger', 'pino', (config) => pinoLogger({ level: config.log_level }));
registerAdapter('contextOut', 'file', (config) => fileContextSink(config.context_out!));
registerAdapter('contextOut', 'nats', (config) => new NatsContextBroadcast(natsLinkFor(config)));
registerAdapter('vectors', 'memory', () => new MemoryVectorStore());
registerAdapter('vectors', 'pglite', (config) => new PGliteVectorStore(config.vector?.path !== undefined ? { path: config.vector.path } : {}));
registerAdapter('vectors', 'pgvector', (config) => new PgVectorStore(config.vector!.url!));
registerAdapter('vectors', 'qdrant', (config) => new QdrantVectorStore({ url: config.vector!.url!, ...qdrantApiKey(config.vector!.api_key_env) }));
registerAdapter('models', 'ai-sdk', (config) => new AiSdkModelProvider(config.models, config.embedders));

/**
 * The NATS adapters as configuration makes them: `transport: nats` (source, sinks, `__context`
 * broadcast) and `kv_backend: jetstream`. Imported only when a configuration chooses one.
 */
import type { LiveCrewConfig } from '../../framework/config/config-schema.js';
import type { AdapterFactory } from '../../framework/adapter-registry.js';
import type { ContextBackend } from '../../framework/ports/context-backend.js';
import type { EventSource } from '../../framework/ports/event-source.js';
import type { ActionSink, ContextSink, ErrorSink } from '../../framework/ports/sinks.js';
import { NatsContextBroadcast } from './context-broadcast.js';
import { JetStreamContextBackend } from './jetstream-context-backend.js';
import { JetStreamEventSource, JetStreamSink, NatsLink } from './jetstream-transport.js';
import { liveRetention } from './jetstream-streams.js';
import { natsConnectOptions } from './nats-connect.js';

/** One NATS connection per app: its source and sinks share it (an app's ports get one config object). */
const natsLinks = new WeakMap<LiveCrewConfig, NatsLink>();
function natsLinkFor(config: LiveCrewConfig): NatsLink {
  let link = natsLinks.get(config);
  if (link === undefined) {
    link = new NatsLink(natsConnectOptions(config), liveRetention(config));
    natsLinks.set(config, link);
  }
  return link;
}

export const natsEventSource: AdapterFactory<EventSource> = (config) => new JetStreamEventSource(natsLinkFor(config), { durable: config.nats_consumer });
export const natsActionSink: AdapterFactory<ActionSink> = (config) => JetStreamSink.forActions(natsLinkFor(config));
export const natsErrorSink: AdapterFactory<ErrorSink> = (config) => JetStreamSink.forErrors(natsLinkFor(config));
export const natsContextBroadcast: AdapterFactory<ContextSink> = (config) => new NatsContextBroadcast(natsLinkFor(config));
export const jetStreamContextBackend: AdapterFactory<ContextBackend> = (config) => new JetStreamContextBackend(natsConnectOptions(config));

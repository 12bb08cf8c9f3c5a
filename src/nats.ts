/**
 * `live-crew/nats`: NATS JetStream as transport and context store, and crews distributed over it
 * (a scheduler per stream, runners per crew), or a pool of workers serving every stream. Loads the NATS client; `transport: nats` and
 * `kv_backend: jetstream` select these adapters without this import.
 */
import 'reflect-metadata';
import './adapters/builtin.js';

export { JetStreamContextBackend, type JetStreamContextBackendOptions } from './adapters/nats/jetstream-context-backend.js';
export { JetStreamEventSource, JetStreamSink, NatsLink, type JetStreamEventSourceOptions } from './adapters/nats/jetstream-transport.js';
export { ensureLiveStreams, LIVE_STREAMS, liveSubject, reportSubject, workSubject } from './adapters/nats/jetstream-streams.js';
export { natsConnectOptions, type NatsSettings } from './adapters/nats/nats-connect.js';
export { runDistributedScheduler, type DistributedSchedulerOptions, type SchedulerOutcome } from './adapters/nats/distributed-scheduler.js';
export { runDistributedRunner, type DistributedRunnerOptions } from './adapters/nats/distributed-runner.js';
export type { DistributedRunOptions } from './adapters/nats/distributed-run.js';
export { poolWorkerApp, runnerGroupApp, runRunnerGroup, runStreamWorker, type PoolWorkerOptions, type RunnerGroupOptions, type StreamWorkerOptions } from './adapters/nats/stream-worker.js';
export { publishEndOfStream, END_OF_STREAM_HEADER } from './adapters/nats/end-of-stream.js';

import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorRecord } from '../../framework/model/error-record.js';
import type { Event } from '../../framework/model/event.js';
import type { ModelCallReport, VectorSearchReport, Monitor, OwnershipChange, PoolView } from '../../framework/ports/run-observer.js';
import type { EmittedAction } from '../../framework/ports/sinks.js';
import type { CallNext, HandlerCall, Interceptor } from '../../framework/ports/interceptor.js';

/** The most streams with series of their own at once. */
export const MAX_STREAM_SERIES = 1000;
/** The `stream` label of the streams past MAX_STREAM_SERIES. */
const OTHER_STREAMS = '_other';

/**
 * Prometheus metrics for a live-crew process (DESIGN §6), with a registry of its own:
 *
 * - `live_crew_events_total{stream,outcome}`: `accepted` valid events taken in; of them `late`
 *   arrived after their slice closed; `invalid` records were rejected;
 * - `live_crew_actions_sent_total{kind}`, `live_crew_errors_total{crew,reason}` (crew `""` for
 *   errors of no crew);
 * - `live_crew_handler_duration_seconds{crew}` (histogram) and `live_crew_slice_lag_seconds{crew}`
 *   (wall time minus the event time of the crew's latest call: how far behind live it runs);
 * - `live_crew_context_bytes{stream}` after each merge, `live_crew_crew_disabled{crew}` (0/1);
 * - `live_crew_heartbeats_total`, `live_crew_heartbeat_gaps_total`;
 * - `live_crew_model_calls_total{crew,model,outcome}`, `live_crew_model_tokens_total{crew,model,type}`
 *   (`input`, `output`; calls served from the journal cost none) and
 *   `live_crew_model_call_seconds{crew,model}` (histogram, retries included).
 * - `live_crew_runner_silent{selector}`: 1 while a runner of the scheduler's stream has sent no
 *   heartbeat for more than 3 beats, else 0 (served by the distributed scheduler).
 * - `live_crew_vector_searches_total{crew,collection,outcome}` (`ok`, `error`, `replayed`) and
 *   `live_crew_vector_search_seconds{crew,collection}` (histogram, embedding included).
 *
 * Handler calls are measured by its interceptor; the rest by the engine's hooks. A stream the
 * engine forgets as idle loses its series; at most MAX_STREAM_SERIES streams have series of
 * their own at once, and those past it count under `stream="_other"`: a process serving streams
 * without end never grows its metrics without end.
 */
export class PrometheusMonitor implements Monitor {
  readonly registry = new Registry();
  /** The streams with series of their own. */
  readonly #streams = new Set<string>();
  readonly interceptor: Interceptor;
  readonly #events = new Counter({
    name: 'live_crew_events_total',
    help: 'Input records by outcome: accepted (valid), late (of the accepted, after their slice closed), invalid',
    labelNames: ['stream', 'outcome'],
    registers: [this.registry],
  });
  readonly #actions = new Counter({ name: 'live_crew_actions_sent_total', help: 'Actions accepted by the action sink', labelNames: ['kind'], registers: [this.registry] });
  readonly #errors = new Counter({ name: 'live_crew_errors_total', help: 'Error records accepted by the error sink', labelNames: ['crew', 'reason'], registers: [this.registry] });
  readonly #duration = new Histogram({
    name: 'live_crew_handler_duration_seconds',
    help: 'Handler call duration, interceptors inside the monitor included',
    labelNames: ['crew'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly #lag = new Gauge({ name: 'live_crew_slice_lag_seconds', help: "Wall time minus the event time of the crew's latest call", labelNames: ['crew'], registers: [this.registry] });
  readonly #contextBytes = new Gauge({ name: 'live_crew_context_bytes', help: "Size of the stream's merged context as JSON", labelNames: ['stream'], registers: [this.registry] });
  readonly #disabled = new Gauge({ name: 'live_crew_crew_disabled', help: '1 when the crew has been disabled after maxErrors errors in a row', labelNames: ['crew'], registers: [this.registry] });
  readonly #heartbeats = new Counter({ name: 'live_crew_heartbeats_total', help: 'Heartbeats this process sent', registers: [this.registry] });
  readonly #heartbeatGaps = new Counter({ name: 'live_crew_heartbeat_gaps_total', help: 'Gaps of more than 3 beats between heartbeats', registers: [this.registry] });
  readonly #modelCalls = new Counter({
    name: 'live_crew_model_calls_total',
    help: 'Model calls by outcome: ok, error, budget, replayed (from the journal), divergence',
    labelNames: ['crew', 'model', 'outcome'],
    registers: [this.registry],
  });
  readonly #modelTokens = new Counter({
    name: 'live_crew_model_tokens_total',
    help: 'Tokens models reported, by type: input, output',
    labelNames: ['crew', 'model', 'type'],
    registers: [this.registry],
  });
  readonly #modelSeconds = new Histogram({
    name: 'live_crew_model_call_seconds',
    help: 'Model call duration, retries included',
    labelNames: ['crew', 'model'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly #runnerSilent = new Gauge({
    name: 'live_crew_runner_silent',
    help: 'Whether a runner has sent no heartbeat for more than 3 beats (1) or beats (0), by its selector',
    labelNames: ['selector'],
    registers: [this.registry],
  });
  readonly #ownership = new Counter({
    name: 'live_crew_pool_ownership_changes_total',
    help: "Changes of this pool worker's hold on streams: claimed, taken-over, handed-over, released-idle, finished, lost",
    labelNames: ['change'],
    registers: [this.registry],
  });
  readonly #owned = new Gauge({ name: 'live_crew_pool_streams_owned', help: 'Streams this pool worker owns', registers: [this.registry] });
  readonly #share = new Gauge({ name: 'live_crew_pool_fair_share', help: "This pool worker's fair share: ceil(active streams / live workers)", registers: [this.registry] });
  readonly #workers = new Gauge({ name: 'live_crew_pool_workers', help: 'Live workers this pool worker sees, itself included', registers: [this.registry] });
  readonly #activeStreams = new Gauge({ name: 'live_crew_pool_active_streams', help: 'Streams with events that are neither finished nor idle', registers: [this.registry] });
  readonly #staleLease = new Gauge({ name: 'live_crew_pool_lease_age_seconds', help: "Time since the stalest of this worker's leases was renewed", registers: [this.registry] });
  readonly #vectorSearches = new Counter({
    name: 'live_crew_vector_searches_total',
    help: 'Vector searches by outcome: ok, error, replayed (from the journal)',
    labelNames: ['crew', 'collection', 'outcome'],
    registers: [this.registry],
  });
  readonly #vectorSeconds = new Histogram({
    name: 'live_crew_vector_search_seconds',
    help: 'Vector search duration, embedding included',
    labelNames: ['crew', 'collection'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  #server: Server | undefined;
  readonly #port: number | undefined;

  /** @param port - where `start()` serves `/metrics` (0: any free port); undefined: it does not serve */
  constructor(port?: number) {
    this.#port = port;
    const duration = this.#duration;
    const lag = this.#lag;
    this.interceptor = {
      observesOnly: true,
      intercept(call: HandlerCall, next: CallNext) {
        lag.labels(call.crew).set((Date.now() - Date.parse(call.event.ts)) / 1000);
        const stop = duration.startTimer({ crew: call.crew });
        let result: unknown;
        try {
          result = next();
        } catch (error) {
          stop();
          throw error;
        }
        if (result instanceof Promise) return result.finally(stop);
        stop();
        return result;
      },
    };
  }

  eventAccepted(event: Event): void {
    this.#events.labels(this.#streamLabel(event.stream_id), 'accepted').inc();
  }

  streamForgotten(streamId: string): void {
    if (!this.#streams.delete(streamId)) return;
    for (const outcome of ['accepted', 'late', 'invalid']) this.#events.remove({ stream: streamId, outcome });
    this.#contextBytes.remove({ stream: streamId });
  }

  /** The `stream` label of a stream's series: its id, or `_other` once MAX_STREAM_SERIES others have theirs. */
  #streamLabel(streamId: string): string {
    if (this.#streams.has(streamId)) return streamId;
    if (this.#streams.size >= MAX_STREAM_SERIES) return OTHER_STREAMS;
    this.#streams.add(streamId);
    return streamId;
  }

  actionsSent(actions: readonly EmittedAction[]): void {
    for (const { action } of actions) this.#actions.labels(action.kind).inc();
  }

  errorsSent(errors: readonly ErrorRecord[]): void {
    for (const { stream_id: stream, payload } of errors) {
      this.#errors.labels(payload.crew ?? '', payload.reason).inc();
      if (payload.reason === 'invalid_event' && payload.crew === undefined) this.#events.labels(this.#streamLabel(stream), 'invalid').inc();
      if (payload.reason === 'late_event') this.#events.labels(this.#streamLabel(stream), 'late').inc();
      if (payload.reason === 'disabled' && payload.crew !== undefined) this.#disabled.labels(payload.crew).set(1);
    }
  }

  contextMerged(streamId: string, _slice: number, bytes: number): void {
    this.#contextBytes.labels(this.#streamLabel(streamId)).set(bytes);
  }

  heartbeat(): void {
    this.#heartbeats.inc();
  }

  heartbeatGap(): void {
    this.#heartbeatGaps.inc();
  }

  modelCalled(call: ModelCallReport): void {
    const labels = { crew: call.crew, model: call.model };
    this.#modelCalls.labels({ ...labels, outcome: call.outcome }).inc();
    if (call.inputTokens > 0) this.#modelTokens.labels({ ...labels, type: 'input' }).inc(call.inputTokens);
    if (call.outputTokens > 0) this.#modelTokens.labels({ ...labels, type: 'output' }).inc(call.outputTokens);
    this.#modelSeconds.labels(labels).observe(call.seconds);
  }

  streamOwnership(change: OwnershipChange): void {
    this.#ownership.labels({ change }).inc();
  }

  poolLooked(view: PoolView): void {
    this.#owned.set(view.owned);
    this.#share.set(view.share);
    this.#workers.set(view.workers);
    this.#activeStreams.set(view.activeStreams);
    this.#staleLease.set(view.staleLeaseMs / 1000);
  }

  runnerSilent(runner: string, silent: boolean): void {
    this.#runnerSilent.labels({ selector: runner.replace(/^runner /, '') }).set(silent ? 1 : 0);
  }

  vectorSearched(search: VectorSearchReport): void {
    const labels = { crew: search.crew, collection: search.collection };
    this.#vectorSearches.labels({ ...labels, outcome: search.outcome }).inc();
    if (search.outcome !== 'replayed') this.#vectorSeconds.labels(labels).observe(search.seconds);
  }

  async start(): Promise<void> {
    if (this.#port !== undefined && this.#server === undefined) await this.listen(this.#port);
  }

  /** The port `/metrics` is served on, once started. */
  get port(): number | undefined {
    return (this.#server?.address() as { port: number } | null | undefined)?.port;
  }

  /** The exposition text, as `/metrics` serves it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves `/metrics` on `port` (0: any free port); resolves to the port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end('live-crew serves /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
    server.listen(port, host);
    await once(server, 'listening');
    // The run's own work keeps the process alive, not the exporter: a run whose last call can never
    // settle must still reach the point where that is noticed (the event loop empties).
    server.unref();
    this.#server = server;
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

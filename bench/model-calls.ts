/**
 * Model calls (DESIGN §9), through the real OpenAI-compatible provider package against a local
 * chat-completions server that answers in 200 ms:
 *
 * 1. Throughput: 1,000 calls on 50 streams (20 each, one at a time per stream), crew concurrency
 *    20, batch mode, journaled. Prints the wall time against the ideal 1,000 × 200 ms / 20 = 10 s
 *    (goal ≥ 90% of ideal), and that of a hand-written pool of 20 making the same calls through
 *    the same provider.
 * 2. Replay of that run from its journal with the server closed: wall time (goal < 1 s) and
 *    whether the output is identical.
 * 3. Other crews: live mode, 200 events/s on 3 streams for 10 s, 4 fast crews; then the same
 *    beside the model crew (a call on every 40th event, lag 2), and beside the same crew calling
 *    the provider without `ctx.model()`. The fast crews' event→action p99 in each run and the
 *    ratios: to the fast crews alone (as `bench:slow`), and to the direct calls (what live-crew's
 *    wrapper adds to what the SDK's HTTP and JSON work costs the event loop).
 *
 *   npm run bench:models [-- --calls 1000 --latency 200 --rate 200 --seconds 10]
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { generateText } from 'ai';
import {
  ACTION_SINK,
  createLiveCrewApp,
  Crew,
  DECISION_JOURNAL,
  ERROR_SINK,
  EVENT_SOURCE,
  OnEvent,
  type CrewClass,
  type CrewContext,
  type EmittedAction,
  type Event,
  type EventSource,
} from 'live-crew';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, MemoryDecisionJournal, startChatCompletionsServer } from 'live-crew/testing';
import { LatencySink, PacedFeed, percentiles } from './paced-feed.js';
import { fastCrews } from './timed-crews.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const CALLS = arg('calls', 1000);
const LATENCY_MS = arg('latency', 200);
const CONCURRENCY = 20;
const RATE = arg('rate', 200);
const SECONDS = arg('seconds', 10);

/** Asks the model about every question: a crew of the kind DESIGN §9 is for. */
@Crew({ id: 'analyst', lag: 2, concurrency: CONCURRENCY, model: 'local' })
class Analyst {
  @OnEvent('question')
  async on(event: Event<{ i: number }>, ctx: CrewContext): Promise<void> {
    const { text } = await generateText({ model: ctx.model(), prompt: `What about event ${event.payload.i}?`, abortSignal: ctx.signal });
    ctx.emit('answer', { text });
  }
}

/** The provider's own model, for a crew that calls it without `ctx.model()`: no journal, no budget. */
let direct: Parameters<typeof generateText>[0]['model'] | undefined;

/** The same calls as `Analyst`, made straight through the provider: what the SDK costs without live-crew's wrapper. */
@Crew({ id: 'analyst', lag: 2, concurrency: CONCURRENCY })
class DirectAnalyst {
  @OnEvent('question')
  async on(event: Event<{ i: number }>, ctx: CrewContext): Promise<void> {
    const { text } = await generateText({ model: direct!, prompt: `What about event ${event.payload.i}?`, abortSignal: ctx.signal });
    ctx.emit('answer', { text });
  }
}

async function run(
  crews: readonly CrewClass[],
  source: EventSource,
  sink: { write(actions: readonly EmittedAction[]): void; close(): Promise<void> },
  journal: MemoryDecisionJournal,
  url: string,
  mode: 'batch' | 'live',
) {
  const app = await createLiveCrewApp({
    crews,
    configFile: false,
    env: {},
    config: { log_level: 'warn', mode, models: { local: { provider: 'openai-compatible', model: 'bench', base_url: url } } },
    providers: [
      { token: EVENT_SOURCE, useValue: source },
      { token: ACTION_SINK, useValue: sink },
      { token: ERROR_SINK, useValue: new CollectingErrorSink() },
      { token: DECISION_JOURNAL, useValue: journal },
    ],
  });
  const started = performance.now();
  await app.run();
  return performance.now() - started;
}

const server = await startChatCompletionsServer({ latencyMs: LATENCY_MS, reply: (request) => `An answer to ${String(request.messages.at(-1)?.content)}` });
const T0 = Date.parse('2024-05-01T12:00:00Z');
const streams = Math.ceil(CALLS / 20);
const questions = Array.from({ length: CALLS }, (_, i) => ({ ts: new Date(T0 + Math.floor(i / streams) * 10).toISOString(), kind: 'question', stream_id: `q${i % streams}`, payload: { i } }));

/** The hand-written baseline: the same calls through the same provider, 20 at a time, no framework. */
async function handWritten(url: string): Promise<number> {
  const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
  const model = createOpenAICompatible({ name: 'local', baseURL: url })('bench');
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < questions.length) {
        const { i } = questions[next++]!.payload;
        await generateText({ model, prompt: `What about event ${i}?` });
      }
    }),
  );
  return performance.now() - started;
}

const baselineMs = await handWritten(server.url);
const baselineRequests = server.requests.length;
const journal = new MemoryDecisionJournal();
const live = new CollectingActionSink();
const liveMs = await run([Analyst], new ArrayEventSource(questions), live, journal, server.url, 'batch');
const ideal = (CALLS * LATENCY_MS) / CONCURRENCY;
console.log(
  `model calls: ${CALLS} calls answered in ${LATENCY_MS} ms by a local chat-completions server (@ai-sdk/openai-compatible), ${streams} streams, concurrency ${CONCURRENCY}, batch mode, journaled`,
);
console.log(
  `  live-crew     wall ${(liveMs / 1000).toFixed(2)} s, ideal ${(ideal / 1000).toFixed(2)} s = ${((ideal / liveMs) * 100).toFixed(0)}% of ideal (${live.actions.length} answers, ${server.requests.length - baselineRequests} requests)`,
);
console.log(`  hand-written  wall ${(baselineMs / 1000).toFixed(2)} s = ${((ideal / baselineMs) * 100).toFixed(0)}% of ideal; live-crew / hand-written = ${(liveMs / baselineMs).toFixed(2)}x`);

const url = server.url;
await server.close();
const replayed = new CollectingActionSink();
const replayMs = await run([Analyst], new ArrayEventSource(questions), replayed, new MemoryDecisionJournal(journal.recorded), url, 'batch');
const identical = JSON.stringify(replayed.actions) === JSON.stringify(live.actions);
console.log(`  replay from the journal, server closed: ${replayMs.toFixed(0)} ms, output ${identical ? 'identical' : 'DIFFERENT'} (${replayed.actions.length} answers)`);

const streamsLive = ['s1', 's2', 's3'];
async function latency(crews: readonly CrewClass[], url: string): Promise<{ fast: number[]; answers: number }> {
  const start = Date.now();
  const lines = Array.from({ length: RATE * SECONDS }, (_, i) =>
    JSON.stringify({ ts: new Date(start + Math.round((i * 1000) / RATE)).toISOString(), kind: i % 40 === 39 ? 'question' : 'tick', stream_id: streamsLive[i % 3], payload: { i } }),
  );
  const feed = new PacedFeed(lines, RATE);
  const sink = new LatencySink(feed.arrivals);
  await run(crews, feed, sink, new MemoryDecisionJournal(), url, 'live');
  return sink;
}
const answering = await startChatCompletionsServer({ latencyMs: LATENCY_MS });
const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
direct = createOpenAICompatible({ name: 'local', baseURL: answering.url })('bench');
const alone = percentiles((await latency(fastCrews, answering.url)).fast);
const beside = await latency([...fastCrews, Analyst], answering.url);
const besideP = percentiles(beside.fast);
const besideDirect = percentiles((await latency([...fastCrews, DirectAnalyst], answering.url)).fast);
await answering.close();
const ms = (x: number) => `${x.toFixed(1)} ms`.padStart(10);
console.log(`other crews: live mode, ${RATE} events/s on 3 streams for ${SECONDS} s, 4 fast crews; the model crew asks on every 40th event (lag 2)`);
console.log(`  fast crews alone        p50 ${ms(alone.p50)}  p99 ${ms(alone.p99)}  max ${ms(alone.max)}`);
console.log(`  beside the model crew   p50 ${ms(besideP.p50)}  p99 ${ms(besideP.p99)}  max ${ms(besideP.max)}  (${beside.answers} answers)`);
console.log(`  beside the same crew calling the provider directly (no ctx.model: no journal, no budget)  p50 ${ms(besideDirect.p50)}  p99 ${ms(besideDirect.p99)}  max ${ms(besideDirect.max)}`);
console.log(`  p99 beside the model crew / p99 alone = ${(besideP.p99 / alone.p99).toFixed(2)}x; / p99 beside the direct crew = ${(besideP.p99 / besideDirect.p99).toFixed(2)}x`);

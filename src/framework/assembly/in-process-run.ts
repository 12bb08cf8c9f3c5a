import type { LiveCrewConfig } from '../config/config-schema.js';
import { inputLimits, runnerLimits } from '../config/limits.js';
import type { CrewGraph } from '../discovery/crew-definition.js';
import type { ModelCalls } from '../model-calls/model-calls.js';
import { EventDecoder } from '../model/event.js';
import type { Clock } from '../ports/clock.js';
import type { ContextBackend } from '../ports/context-backend.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { EventSource } from '../ports/event-source.js';
import type { Monitor } from '../ports/run-observer.js';
import type { ActionSink, ContextSink, ErrorSink } from '../ports/sinks.js';
import { CrewRunner } from '../runtime/crew-runner.js';
import { EventPipeline } from '../runtime/event-pipeline.js';
import { OutputBuffer } from '../runtime/output-buffer.js';
import { PacedEventSource } from '../runtime/paced-event-source.js';
import type { CrewRuntime } from '../runtime/route-table.js';
import { scheduleCrews } from '../scheduler/crew-schedule.js';
import { SliceEngine } from '../scheduler/slice-engine.js';
import { sliceTiming } from './slice-timing.js';

/** What an in-process run is made of: its crews, and the ports it reads, writes and keeps context in. */
export interface InProcessRunParts {
  readonly config: LiveCrewConfig;
  readonly graph: CrewGraph;
  readonly crews: readonly CrewRuntime[];
  readonly models: ModelCalls;
  readonly clock: Clock;
  readonly monitor: Monitor;
  readonly journal: DecisionJournal;
  readonly backend: ContextBackend;
  readonly source: EventSource;
  readonly actions: ActionSink;
  readonly errors: ErrorSink;
  readonly contextOut?: ContextSink | undefined;
}

/** Input through the slice engine to the crews, in one process: the pieces, and how to run them. */
export interface InProcessRun {
  readonly output: OutputBuffer;
  readonly runner: CrewRunner;
  readonly engine: SliceEngine;
  readonly decoder: EventDecoder;
  readonly pipeline: EventPipeline;
  /** Runs until the source ends, `stopped()` says so, or the pipeline is abandoned. */
  run(stopped: () => boolean): Promise<void>;
}

/**
 * Wires an in-process run (DESIGN §4): the decoder, the slice engine and the crew runner over
 * the given ports, timed as the config says (batch, live, or a recorded stream paced). What
 * `createLiveCrewApp` runs, and what a pool worker runs for each stream it owns.
 */
export function inProcessRun(parts: InProcessRunParts): InProcessRun {
  const { config, graph, clock, monitor, journal } = parts;
  const output = new OutputBuffer(monitor);
  // A pace replays recorded input live; live mode lets wall time close slices.
  const liveRate = config.mode === 'live' || config.pace !== null ? (config.pace ?? 1) : undefined;
  // Output of calls that end between input batches goes out through the pipeline, made below.
  let flushSoon = (): void => {};
  const runner = new CrewRunner(parts.crews, parts.backend, output, runnerLimits(config), {
    journal,
    clock,
    observer: monitor,
    models: parts.models,
    // With a backend that outlives the process, a slice's output goes out before its commit.
    ...(config.kv_backend !== 'memory' ? { flushOutput: () => output.flush(parts.actions, parts.errors) } : {}),
    // Batch output is the same whatever the timing; live output goes out as calls end.
    ordered: liveRate === undefined,
    outputReady: () => flushSoon(),
    ...(parts.contextOut !== undefined ? { contextOut: parts.contextOut } : {}),
  });
  const engine = new SliceEngine(sliceTiming(config, liveRate), scheduleCrews(graph.crews, config.eager_dispatch), runner, clock, journal);
  const paced = config.pace !== null ? new PacedEventSource(parts.source, config.pace, clock) : undefined;
  const input = paced ?? parts.source;
  const ticker = liveRate !== undefined ? { clock, intervalMs: Math.max(1, config.slice_ms / liveRate / 4), ...(paced ? { eventTimeLimit: () => paced.eventTimeReached() } : {}) } : undefined;
  const decoder = new EventDecoder(inputLimits(config));
  const pipeline = new EventPipeline(decoder, engine, output, { observer: monitor });
  flushSoon = () => pipeline.flushSoon();
  return { output, runner, engine, decoder, pipeline, run: (stopped) => pipeline.run(input, parts.actions, parts.errors, stopped, ticker) };
}

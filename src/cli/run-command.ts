import { dirname } from 'node:path';
import type { Command } from 'commander';
import { createLiveCrewApp, type LiveCrewConfigInput } from '../index.js';
import { isolatedCrewsModule, loadCrews } from '../framework/discovery/crew-module.js';
import { CrewReloads } from '../framework/yaml-crews/crew-reloads.js';
import { DECISION_JOURNAL, LOGGER } from '../framework/tokens.js';
import { resolveConfigFile } from '../framework/config/load-config.js';
import { crewsOption, parseInputFormat, parsePace, parsePort, parseReplayMissing } from './options.js';
import { progressLine } from './progress.js';
import { onStopSignal, STOP_GRACE_MS } from './stop-signals.js';
import { DashboardFeed } from '../adapters/dashboard/dashboard-feed.js';
import { serveDashboard } from './dashboard-serving.js';
import { messages } from '../framework/messages.js';

export interface RunOptions {
  crews: string[];
  config?: string;
  out?: string;
  errors?: string;
  contextOut?: string;
  summary?: boolean;
  journal?: string;
  replay?: string;
  replayMissing?: 'fail' | 'live';
  pace?: number;
  live?: boolean;
  transport?: 'file' | 'nats';
  natsUrl?: string;
  metricsPort?: number;
  progress?: boolean;
  format?: 'jsonl' | 'json';
  watch?: boolean;
  /** Serve the dashboard on this port. */
  ui?: number;
  uiHost?: string;
}

/** `live-crew run <events> --crews <path>`: runs crews over an event file. */
export function registerRunCommand(program: Command): void {
  withRunOptions(program.command('run').description('run crews over an event file (.jsonl or a .json array; - reads stdin)').argument('<events>', 'the events file, or - for stdin'))
    .option('--ui <port>', 'serve the live dashboard on this port (0: any free port) while the run lasts', parsePort)
    .option('--ui-host <address>', 'the address the dashboard binds (default 127.0.0.1: this machine only)')
    .action((events: string, options: RunOptions) => runCrews(events, options));
}

/** The options of a run of crews over events, shared by `run` and `dev`. */
export function withRunOptions(command: Command, crewsMandatory = true): Command {
  return command
    .addOption(crewsOption(crewsMandatory))
    .option('--config <file>', 'the YAML config file (default: live-config.yaml if present)')
    .option('--format <format>', 'jsonl or json (default: by extension, .json is one array; stdin is JSONL)', parseInputFormat)
    .option('--out <file>', 'write actions to this JSONL file instead of stdout')
    .option('--errors <file>', 'write error records to this JSONL file instead of stderr')
    .option('--context-out <file>', "write each merged slice's __context record (the stream's context and what the slice changed) to this JSONL file")
    .option('--summary', 'print the run summary as JSON on stderr when done')
    .option('--progress', 'show events, actions and errors so far on stderr, when stderr is a terminal (the default with --transport nats)')
    .option('--no-progress', 'no progress line, even with --transport nats')
    .option('--pace <factor>', 'replay the file live at its recorded speed times factor (1 = real time, 10 = ten times faster)', parsePace)
    .option('--live', 'live mode: wall-clock time closes slices too (for input arriving over time, e.g. on stdin)')
    .option('--transport <name>', 'file (the events argument) or nats (consume live.*.events; the argument is ignored, give -)')
    .option('--nats-url <url>', 'the NATS server for --transport nats (default: nats_url from config)')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port while running (default: metrics_port from config)', parsePort)
    .option('--journal <file>', 'record wall-clock decisions (call timeouts) and model answers to this JSONL file')
    .option('--replay <file>', 'repeat the decisions and model answers of a recorded journal, taking none from the clock or the network')
    .option('--watch', 'reload changed <id>.crew.yaml files at the next slice of each stream (the reload is journaled, so --replay repeats it)')
    .option('--replay-missing <policy>', 'with --replay, a model call the journal lacks or whose request changed: fail (a replay_divergence error) or live (ask the model again)', parseReplayMissing);
}

/**
 * Runs crews over `events` as `options` say. With `ui`, the dashboard is served while it runs;
 * with `stayUp` too (`live-crew dev`), until a stop signal after the run ends, so the finished run
 * can still be looked at.
 */
export async function runCrews(events: string, options: RunOptions, stayUp = false): Promise<void> {
  const { crews, providers, yamlCrews } = await loadCrews(options.crews);
  // A NATS run goes on until stopped: without a word from it, a person cannot tell it works.
  const progress = (options.progress ?? options.transport === 'nats') ? progressLine() : undefined;
  const dashboard = options.ui !== undefined ? new DashboardFeed({ mode: 'run', title: events === '-' ? 'stdin' : events }) : undefined;
  // Served before the app opens anything: a port in use fails the command with nothing to close.
  const server = dashboard === undefined ? undefined : await serveDashboard(dashboard, options);
  try {
    const app = await createLiveCrewApp({
      crews,
      providers,
      crewsModule: isolatedCrewsModule(options.crews),
      // A watched run reloads knobs; a replay may be of one that did.
      reloadable: options.watch === true || options.replay !== undefined,
      observer: [...(progress !== undefined ? [progress.observer] : []), ...(dashboard !== undefined ? [dashboard] : [])],
      ...(dashboard !== undefined ? { interceptors: [dashboard.interceptor] } : {}),
      ...(options.config !== undefined ? { configFile: options.config } : {}),
      // stderr carries the error records: only warnings are logged there unless asked (or watching, a developer's run).
      configDefaults: { log_level: options.watch ? 'info' : 'warn' },
      config: runConfig(events, options),
    });
    const reloads = new CrewReloads(yamlCrews, app.container.resolve(DECISION_JOURNAL), app.container.resolve(LOGGER), app.reloadableKnobs);
    reloads.installRecorded();
    if (options.watch) await reloads.watch(runtimeFolder(options.config));
    let stopped = (): void => {};
    const stopSignalled = new Promise<void>((resolve) => (stopped = resolve));
    onStopSignal(() => {
      stopped();
      void app.stop();
    }, app.config.stop_timeout_ms + STOP_GRACE_MS);
    dashboard?.describeRun({ sliceMs: app.config.slice_ms, crews: app.crews });
    if (app.config.transport === 'nats') process.stderr.write(`${messages.natsRunListening(app.config.nats_url, app.crews.length)}\n`);
    const summary = await app.run().finally(() => {
      progress?.stop();
      reloads.close();
    });
    dashboard?.finish();
    if (options.summary) process.stderr.write(`${JSON.stringify({ summary })}\n`);
    if (summary.abandoned > 0) {
      process.stderr.write(`live-crew: ${summary.abandoned} handler call(s) never finished and were failed (see their handler_error records)\n`);
      process.exitCode = 1;
    }
    if (server !== undefined && stayUp) {
      process.stderr.write(`live-crew: the run is over; the dashboard stays up at ${server.url} (Ctrl-C to stop)\n`);
      await stopSignalled;
    }
  } finally {
    await server?.close();
  }
}

/** The config values a run's options set: they win over the file and env vars. */
function runConfig(events: string, options: RunOptions): LiveCrewConfigInput {
  return {
    input: events,
    ...(options.format !== undefined ? { input_format: options.format } : {}),
    ...(options.out !== undefined ? { output: options.out } : {}),
    ...(options.errors !== undefined ? { errors: options.errors } : {}),
    ...(options.contextOut !== undefined ? { context_out: options.contextOut } : {}),
    ...(options.journal !== undefined ? { journal: options.journal } : {}),
    ...(options.replay !== undefined ? { replay: options.replay } : {}),
    ...(options.replayMissing !== undefined ? { replay_missing: options.replayMissing } : {}),
    ...(options.pace !== undefined ? { pace: options.pace } : {}),
    ...(options.live || options.transport === 'nats' ? { mode: 'live' as const } : {}),
    ...(options.transport !== undefined ? { transport: options.transport } : {}),
    ...(options.natsUrl !== undefined ? { nats_url: options.natsUrl } : {}),
    ...(options.metricsPort !== undefined ? { metrics_port: options.metricsPort } : {}),
  };
}

/** The folder of the config file, where `<crew>.runtime.yaml` files are. */
function runtimeFolder(config: string | undefined): string {
  const file = resolveConfigFile(config);
  return file === undefined ? '.' : dirname(file);
}

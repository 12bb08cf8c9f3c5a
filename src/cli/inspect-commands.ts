import { Option, type Command } from 'commander';
import { container as rootContainer } from 'tsyringe';
import { buildCrewGraph, loadConfig, type CrewDefinition, type CrewGraph, type ProviderRegistration } from '../index.js';
import { loadRuntimeOverrides } from '../framework/config/runtime-overrides.js';
import { lagWarnings } from '../framework/discovery/crew-graph.js';
import { declaredCrewId, type CrewOverrides } from '../framework/discovery/read-crew.js';
import { configuredModels } from '../framework/assembly/port-bindings.js';
import { adapterFactory } from '../framework/adapter-registry.js';
import type { LiveCrewConfig } from '../framework/config/config-schema.js';
import { implicitModelName, unknownCrewModels, unknownVectorEmbedders } from '../framework/model-calls/model-calls.js';
import { unmetCrewNeeds } from '../framework/model-calls/crew-needs.js';
import { messages } from '../framework/messages.js';
import { instantiateCrews } from '../framework/runtime/instantiate-crews.js';
import { LIVE_CREW_CONFIG } from '../framework/tokens.js';
import { loadCrews } from '../framework/discovery/crew-module.js';
import { crewsOption } from './options.js';
import { InputError } from '../framework/errors.js';
import { isThrownInstance } from '../framework/describe-thrown.js';
import { EventFileCheck } from '../framework/discovery/event-file-check.js';
import { EventDecoder } from '../framework/model/event.js';
import { inputLimits } from '../framework/config/limits.js';
import { fileEventSource } from '../adapters/file/file-event-source.js';
import { describeThrown } from '../framework/describe-thrown.js';

interface InspectOptions {
  crews: string[];
  config?: string;
  events?: string;
  format?: 'text' | 'mermaid' | 'dot';
}

/** `live-crew validate` and `live-crew graph`: check an app without running it, and draw its dependencies. */
export function registerInspectCommands(program: Command): void {
  program
    .command('validate')
    .description('check the config, the <crew>.runtime.yaml files and the crews (graph, DI) and print every problem with its location')
    .addOption(crewsOption())
    .option('--config <file>', 'the YAML config file (default: live-config.yaml if present)')
    .option('--events <file>', 'also check the crews against these events (JSONL, or a .json array): invalid records, payloads a handler refuses, kinds no handler or no event has')
    .action(async (options: InspectOptions) => {
      const { crews, providers } = await loadCrews(options.crews);
      const problems: string[] = [];
      const attempt = <T>(check: () => T): T | undefined => {
        try {
          return check();
        } catch (error) {
          problems.push(describeThrown(error));
          return undefined;
        }
      };
      const config = attempt(() => loadConfig({ file: options.config, env: process.env }));
      const overrides = new Map<string, CrewOverrides>();
      for (const id of crews.map(declaredCrewId).filter((id) => id !== undefined)) {
        for (const [crew, knobs] of attempt(() => loadRuntimeOverrides(options.config, [id])) ?? []) overrides.set(crew, knobs);
      }
      const graph = attempt(() => buildCrewGraph(crews, overrides));
      const warnings: string[] = [];
      if (graph !== undefined && config !== undefined) {
        attempt(() => constructAll(graph, providers, config));
        const models = await modelProblems(graph, config);
        problems.push(...models.problems);
        warnings.push(...models.warnings);
      }
      let events = '';
      let unlisted = 0;
      if (graph !== undefined && config !== undefined && options.events !== undefined) {
        try {
          const check = await checkEvents(graph, config, options.events);
          const report = check.report();
          problems.push(...report.problems);
          unlisted = report.unlisted;
          warnings.push(...report.warnings);
          events = `, ${options.events}: ${check.counts.events} events of ${check.counts.kinds} kinds`;
        } catch (error) {
          if (!isThrownInstance(error, InputError)) throw error;
          problems.push(error.message);
        }
      }
      if (graph !== undefined) warnings.push(...lagWarnings(graph));
      if (warnings.length > 0) process.stderr.write(`${warnings.map((w) => `warning: ${w}`).join('\n')}\n`);
      if (problems.length > 0) {
        const count = problems.length + unlisted;
        process.stderr.write(`live-crew validate: ${count} problem${count === 1 ? '' : 's'}\n${problems.map((p) => `- ${p.replace(/\n/g, '\n  ')}`).join('\n')}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`ok: ${graph!.crews.length} crews (${graph!.crews.map((crew) => crew.id).join(', ')}), config ${options.config ?? 'live-config.yaml or defaults'}${events}\n`);
    });
  program
    .command('graph')
    .description('print the crews in run order and their dependencies with offsets')
    .addOption(crewsOption())
    .option('--config <file>', 'the YAML config file, for <crew>.runtime.yaml beside it')
    .addOption(new Option('--format <format>', 'how to print it').choices(['text', 'mermaid', 'dot']).default('text'))
    .action(async (options: InspectOptions) => {
      const { crews } = await loadCrews(options.crews);
      const ids = crews.map(declaredCrewId).filter((id) => id !== undefined);
      const graph = buildCrewGraph(crews, loadRuntimeOverrides(options.config, ids));
      process.stdout.write(FORMATS[options.format ?? 'text'](graph));
    });
}

/**
 * What is wrong with the models and the vector store: one that cannot be made (a key not set, a
 * package missing), a crew or `vector:` naming one not configured, a need a YAML crew declares
 * and the config does not meet. Warned: `vector:` choosing no embedder (a crew may give vectors).
 */
async function modelProblems(graph: CrewGraph, config: LiveCrewConfig): Promise<{ problems: string[]; warnings: string[] }> {
  const provider = await configuredModels(config);
  try {
    await provider.open();
    if (config.vector !== null) await (await adapterFactory('vectors', config.vector.backend))(config).check();
  } catch (error) {
    return { problems: [describeThrown(error)], warnings: [] };
  }
  const noEmbedder = config.vector !== null && config.vector.embedder === undefined && implicitModelName(provider.embedderNames) === undefined;
  return {
    problems: [...unknownCrewModels(graph, provider), ...unknownVectorEmbedders(config.vector, provider), ...unmetCrewNeeds(graph, config.vector, provider)],
    warnings: noEmbedder ? [messages.vectorWithoutEmbedder(provider.embedderNames)] : [],
  };
}

/**
 * Reads `file` as a run would and checks every record against the crews.
 *
 * @throws InputError for a file that cannot be read
 */
async function checkEvents(graph: CrewGraph, config: LiveCrewConfig, file: string): Promise<EventFileCheck> {
  const check = new EventFileCheck(graph.crews, file);
  const decoder = new EventDecoder(inputLimits(config));
  for await (const { origin, records } of fileEventSource(file, config).batches()) {
    for (const record of records) {
      const decoded = decoder.decodeRecord(record, origin);
      const where = origin.locate(record.position, record.stream);
      if ('problem' in decoded) check.invalid(decoded.problem, where);
      else check.event(decoded.event, where);
    }
  }
  return check;
}

/** Constructs every crew through DI as an app would, so a missing provider shows now. */
function constructAll(graph: CrewGraph, providers: readonly ProviderRegistration[], config: unknown): void {
  const container = rootContainer.createChildContainer();
  container.register(LIVE_CREW_CONFIG, { useValue: config as never });
  for (const { token, ...provider } of providers) container.register(token, provider as never);
  instantiateCrews(graph, container);
}

/** A crew's name as the graph shows it: with its lag and concurrency when it has them. */
function label(crew: CrewDefinition): string {
  const knobs = [...(crew.lag > 0 ? [`lag ${crew.lag}`] : []), ...(crew.concurrency !== undefined ? [`concurrency ${crew.concurrency}`] : [])];
  return knobs.length > 0 ? `${crew.id} (${knobs.join(', ')})` : crew.id;
}

/** One dependency edge: from what is needed to the crew that needs it. */
function edges(crew: CrewDefinition): Array<{ from: string; label: string; event: boolean }> {
  return crew.dependencies.map((dep) => (dep.type === 'crew' ? { from: dep.crew, label: String(dep.offset), event: false } : { from: `event:${dep.event}`, label: String(dep.offset), event: true }));
}

const FORMATS: Record<NonNullable<InspectOptions['format']>, (graph: CrewGraph) => string> = {
  text: (graph) =>
    `${graph.crews
      .map((crew, i) => {
        const needs = crew.dependencies.map((dep) => (dep.type === 'crew' ? `crew ${dep.crew} (offset ${dep.offset})` : `event ${dep.event} (offset ${dep.offset})`));
        return `${i + 1}. ${label(crew)}${needs.length > 0 ? ` <- ${needs.join(', ')}` : ''}`;
      })
      .join('\n')}\n`,
  mermaid: (graph) => {
    const lines = ['graph LR'];
    for (const crew of graph.crews) {
      lines.push(label(crew) === crew.id ? `  ${crew.id}[${crew.id}]` : `  ${crew.id}["${label(crew)}"]`);
      for (const edge of edges(crew)) lines.push(`  ${edge.event ? `${edge.from.replace(':', '_')}([${edge.from}])` : edge.from} -->|${edge.label}| ${crew.id}`);
    }
    return `${lines.join('\n')}\n`;
  },
  dot: (graph) => {
    const lines = ['digraph live_crew {', '  rankdir=LR;'];
    for (const crew of graph.crews) {
      lines.push(`  "${crew.id}"${label(crew) !== crew.id ? ` [label="${label(crew)}"]` : ''};`);
      for (const edge of edges(crew)) lines.push(`  "${edge.from}"${edge.event ? ' [shape=ellipse]' : ''};`, `  "${edge.from}" -> "${crew.id}" [label="${edge.label}"];`);
    }
    return `${lines.join('\n')}\n}\n`;
  },
};

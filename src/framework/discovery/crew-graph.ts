import type { CrewOverrides } from './read-crew.js';
import { CrewDefinitionError, DependencyCycleError } from '../errors.js';
import { messages } from '../messages.js';
import type { CrewClass, CrewDefinition, CrewGraph } from './crew-definition.js';
import { readCrew } from './read-crew.js';
import { waitsOn } from '../model/dependency.js';

/**
 * Reads crew classes into a checked `CrewGraph` in run order. `overrides` are knobs per crew id
 * that win over the `@Crew` options (from `<crew_id>.runtime.yaml`).
 *
 * @throws CrewDefinitionError listing every problem: classes without `@Crew`, bad ids and options,
 *   crews without handlers, bad `@OnEvent` kinds, duplicate ids, unknown crew dependencies.
 * @throws DependencyCycleError naming the cycle (`a -> b -> a`) of offset-0 crew dependencies.
 */
export function buildCrewGraph(classes: readonly CrewClass[], overrides: ReadonlyMap<string, CrewOverrides> = new Map()): CrewGraph {
  const problems: string[] = [];
  const crews: CrewDefinition[] = [];
  for (const type of new Set(classes)) {
    const { crew, problems: found } = readCrew(type, (id) => overrides.get(id) ?? {});
    problems.push(...found);
    if (crew) crews.push(crew);
  }

  const byId = new Map<string, CrewDefinition[]>();
  for (const crew of crews) byId.set(crew.id, [...(byId.get(crew.id) ?? []), crew]);
  for (const [id, same] of byId) {
    if (same.length > 1)
      problems.push(
        messages.duplicateCrewId(
          id,
          same.map((c) => c.className),
        ),
      );
  }
  const known = [...byId.keys()].sort();
  for (const crew of crews) {
    for (const dep of crew.dependencies) {
      if (dep.type === 'crew' && !byId.has(dep.crew)) problems.push(messages.unknownCrewDependency(crew.id, dep.crew, known));
    }
  }
  if (problems.length > 0) throw new CrewDefinitionError(messages.crewDefinitions(problems));
  return { crews: runOrder(crews) };
}

/**
 * What is legal but likely not meant: a crew depending on a lagging crew at an offset that makes
 * it wait for that crew's slow slices (DESIGN §8), one warning per such dependency.
 */
export function lagWarnings(graph: CrewGraph): string[] {
  const lagOf = new Map(graph.crews.map((crew) => [crew.id, crew.lag]));
  return graph.crews.flatMap((crew) =>
    crew.dependencies.flatMap((dep) => {
      const lag = dep.type === 'crew' ? lagOf.get(dep.crew)! : 0;
      return dep.type === 'crew' && lag > 0 && waitsOn(dep, lag) ? [messages.waitsOnLaggedCrew(crew.id, dep.crew, dep.offset, lag)] : [];
    }),
  );
}

/** The ids each crew must follow inside a slice: its offset-0 crew dependencies. */
function sameSlicePredecessors(crew: CrewDefinition): string[] {
  return crew.dependencies.flatMap((d) => (d.type === 'crew' && d.offset === 0 ? [d.crew] : []));
}

/**
 * Topological order over offset-0 crew dependencies, smallest id first among the ready ones, so
 * the order is a function of the definitions alone.
 */
function runOrder(crews: readonly CrewDefinition[]): CrewDefinition[] {
  const byId = new Map(crews.map((c) => [c.id, c]));
  const waitingOn = new Map(crews.map((c) => [c.id, new Set(sameSlicePredecessors(c))]));
  const ordered: CrewDefinition[] = [];
  const ready = crews.filter((c) => waitingOn.get(c.id)!.size === 0).map((c) => c.id);
  while (ready.length > 0) {
    ready.sort();
    const id = ready.shift()!;
    ordered.push(byId.get(id)!);
    for (const [other, preds] of waitingOn) {
      if (preds.delete(id) && preds.size === 0) ready.push(other);
    }
    waitingOn.delete(id);
  }
  if (ordered.length < crews.length) {
    const cycle = findCycle([...waitingOn.keys()].sort(), (id) => sameSlicePredecessors(byId.get(id)!));
    throw new DependencyCycleError(messages.dependencyCycle(cycle), cycle);
  }
  return ordered;
}

/** A cycle among `ids` (every one of which lies on or leads into one), as `[a, b, a]`. */
function findCycle(ids: readonly string[], next: (id: string) => readonly string[]): string[] {
  const path: string[] = [];
  const onPath = new Set<string>();
  let current = ids[0]!;
  while (!onPath.has(current)) {
    path.push(current);
    onPath.add(current);
    current = [...next(current)].sort().find((id) => ids.includes(id))!;
  }
  return [...path.slice(path.indexOf(current)), current];
}

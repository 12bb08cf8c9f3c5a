import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CrewKnobsSchema } from '../discovery/crew-knobs.js';
import { knobsOf, knobSpelledTwice, NeedsSchema, snakeKnobsShape, TriggersSchema } from '../discovery/crew-spec-keys.js';
import type { CrewOverrides } from '../discovery/read-crew.js';
import { CrewIdSchema } from '../model/dependency.js';
import { ConfigError } from '../errors.js';
import { messages } from '../messages.js';
import { checkLayer, resolveConfigFile } from './load-config.js';
import { readYamlDocument } from './yaml-document.js';

/** The suffix of a crew's runtime file: `score_tracker.runtime.yaml`. */
export const RUNTIME_FILE_SUFFIX = '.runtime.yaml';

/**
 * A runtime file: the knobs in camelCase (as `@Crew` spells them) or in the original spec's
 * snake_case, and the spec's `crew`, `triggers` and `needs`.
 */
const RuntimeFileSchema = z.strictObject({ ...CrewKnobsSchema.shape, ...snakeKnobsShape, crew: CrewIdSchema, triggers: TriggersSchema, needs: NeedsSchema }).partial();

/**
 * What each crew's `<crew_id>.runtime.yaml` sets, read from the folder of the config file (the
 * working directory when none is named). `configFile: false` reads none, as the testing app
 * does. Files of crews this app does not host are left alone: runners host subsets. `needs`
 * replaces the crew's `@DependsOn`; `triggers` the kinds of its only handler.
 *
 * @throws ConfigError naming the file, line and key of an unknown knob or a bad value
 */
export function loadRuntimeOverrides(configFile: string | false | undefined, crewIds: readonly string[]): Map<string, CrewOverrides> {
  const overrides = new Map<string, CrewOverrides>();
  if (configFile === false) return overrides;
  const file = resolveConfigFile(configFile);
  const folder = file === undefined ? '.' : dirname(file);
  for (const id of crewIds) {
    const path = join(folder, `${id}${RUNTIME_FILE_SUFFIX}`);
    if (existsSync(path)) overrides.set(id, readRuntimeFile(path, id));
  }
  return overrides;
}

/**
 * Reads one crew's runtime file.
 *
 * @throws ConfigError naming file, line and key of each problem
 */
export function readRuntimeFile(path: string, id: string): CrewOverrides {
  const document = readYamlDocument(path);
  const data = checkLayer(RuntimeFileSchema, document.data, path, undefined, document.lineOf);
  const twice = knobSpelledTwice(data);
  if (twice !== undefined) throw new ConfigError(messages.configInvalid(path, `  ${twice}`));
  if (data.crew !== undefined && data.crew !== id) throw new ConfigError(messages.configInvalid(path, `  ${messages.runtimeFileOtherCrew(data.crew)}`));
  return { ...knobsOf(data), ...(data.triggers !== undefined ? { triggers: data.triggers } : {}), ...(data.needs !== undefined ? { needs: data.needs } : {}) };
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CrewKnobsSchema, type CrewKnobs } from '../discovery/crew-knobs.js';
import { checkLayer, readYamlFile, resolveConfigFile } from './load-config.js';

/** The suffix of a crew's runtime file: `score_tracker.runtime.yaml`. */
export const RUNTIME_FILE_SUFFIX = '.runtime.yaml';

/**
 * The knobs each crew's `<crew_id>.runtime.yaml` sets, read from the folder of the config file
 * (the working directory when none is named). `configFile: false` reads none, as the testing
 * app does. Files of crews this app does not host are left alone: runners host subsets.
 *
 * @throws ConfigError naming the file and key of an unknown knob or a bad value
 */
export function loadRuntimeOverrides(configFile: string | false | undefined, crewIds: readonly string[]): Map<string, CrewKnobs> {
  const overrides = new Map<string, CrewKnobs>();
  if (configFile === false) return overrides;
  const file = resolveConfigFile(configFile);
  const folder = file === undefined ? '.' : dirname(file);
  for (const id of crewIds) {
    const path = join(folder, `${id}${RUNTIME_FILE_SUFFIX}`);
    if (existsSync(path)) overrides.set(id, checkLayer(CrewKnobsSchema, readYamlFile(path), path));
  }
  return overrides;
}

import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProviderRegistration } from '../tokens.js';
import { ConfigError, CrewDefinitionError } from '../errors.js';
import { messages } from '../messages.js';
import type { YamlCrew } from '../yaml-crews/yaml-crew-class.js';
import type { CrewClass } from './crew-definition.js';
import { isCrewClass } from './read-crew.js';
import { describeThrown, isThrownInstance } from '../describe-thrown.js';
import { CREW_FILE_SUFFIX } from '../yaml-crews/crew-file-suffix.js';

/** What a crews module gives: its crews, and the providers their constructors need. */
export interface CrewModule {
  readonly crews: CrewClass[];
  readonly providers: ProviderRegistration[];
  /** The YAML crews among `crews`, for `run --watch` to reload. */
  readonly yamlCrews: YamlCrew[];
}

/** The JavaScript modules `--crews` imports from a folder. */
const MODULE_SUFFIXES = ['.js', '.mjs'];

/**
 * Loads crews as the CLI's `--crews` names them (what an isolated crew's worker or runner loads
 * too): a compiled module (`.js`), a YAML crew (`.crew.yaml`), or a folder holding either (its
 * own files, not its subfolders, in name order). A module's crews are the `crews` array it
 * exports, or else every exported `@Crew` class; an exported `providers` array is registered in
 * the container.
 *
 * @throws CrewDefinitionError when a module cannot be imported, or nothing yields a crew
 * @throws ConfigError naming file, line and key for a YAML crew that is not valid
 */
export async function loadCrewModule(path: string): Promise<CrewModule> {
  const folder = isFolder(path);
  const files = folder
    ? readdirSync(path)
        .sort()
        .map((name) => join(path, name))
    : [path];
  const loaded: CrewModule = { crews: [], providers: [], yamlCrews: [] };
  const invalid: string[] = [];
  for (const file of files) {
    if (file.endsWith(CREW_FILE_SUFFIX)) {
      // Every bad YAML crew of a folder is reported at once, so a user fixes them in one go.
      try {
        // LiquidJS and the model-call machinery load only for an app that has YAML crews.
        const [{ readCrewFile }, { yamlCrewClass }] = await Promise.all([import('../yaml-crews/yaml-crew-file.js'), import('../yaml-crews/yaml-crew-class.js')]);
        const crew = yamlCrewClass(readCrewFile(file));
        loaded.crews.push(crew.type);
        loaded.yamlCrews.push(crew);
      } catch (error) {
        if (!isThrownInstance(error, ConfigError)) throw error;
        invalid.push(error.message);
      }
    } else if (!folder || (MODULE_SUFFIXES.some((suffix) => file.endsWith(suffix)) && !isFolder(file))) {
      const module = await importCrews(file, !folder);
      loaded.crews.push(...module.crews);
      loaded.providers.push(...module.providers);
    }
  }
  if (invalid.length > 0) throw new ConfigError(invalid.join('\n'));
  if (loaded.crews.length === 0) throw new CrewDefinitionError(messages.crewModuleExportsNothing(path));
  return loaded;
}

/**
 * Loads the crews of several `--crews` paths (a module, YAML crews, a folder of either), in the
 * order given: one app's crews and providers.
 */
export async function loadCrews(paths: readonly string[]): Promise<CrewModule> {
  const loaded: CrewModule = { crews: [], providers: [], yamlCrews: [] };
  for (const path of paths) {
    const module = await loadCrewModule(path);
    loaded.crews.push(...module.crews);
    loaded.providers.push(...module.providers);
    loaded.yamlCrews.push(...module.yamlCrews);
  }
  return loaded;
}

/** The path an isolated crew's worker loads its crew from: the first that is a module or folder, not a YAML crew. */
export function isolatedCrewsModule(paths: readonly string[]): string | undefined {
  return paths.find((path) => !path.endsWith(CREW_FILE_SUFFIX));
}

/** The crews and providers a JS module exports; `required`: a module that exports no crew is an error. */
async function importCrews(path: string, required: boolean): Promise<Pick<CrewModule, 'crews' | 'providers'>> {
  // Node cannot run TypeScript crews as they are, and a loader that strips types loses what DI needs.
  if (/\.[cm]?tsx?$/.test(path)) throw new CrewDefinitionError(messages.crewModuleIsTypeScript(path));
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CrewDefinitionError(messages.crewModuleUnloadable(path, describeThrown(error)), { cause: error });
  }
  const listed = exports['crews'];
  const crews = Array.isArray(listed) ? (listed as CrewClass[]) : Object.values(exports).filter(isCrewClass);
  if (required && crews.length === 0) throw new CrewDefinitionError(messages.crewModuleExportsNothing(path));
  const providers = Array.isArray(exports['providers']) ? (exports['providers'] as ProviderRegistration[]) : [];
  return { crews, providers };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

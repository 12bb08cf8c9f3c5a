import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CrewDefinitionError, type CrewClass, type ProviderRegistration } from '../index.js';
import { isCrewClass } from '../framework/discovery/read-crew.js';
import { messages } from '../framework/messages.js';

/** What a crews module gives the CLI. */
export interface CrewModule {
  readonly crews: CrewClass[];
  readonly providers: ProviderRegistration[];
}

/**
 * Imports a compiled crews module. Its crews are the `crews` array it exports, or else every
 * exported `@Crew` class; an exported `providers` array is registered in the container.
 *
 * @throws CrewDefinitionError when the module cannot be imported or exports no crew.
 */
export async function loadCrewModule(path: string): Promise<CrewModule> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CrewDefinitionError(messages.crewModuleUnloadable(path, (error as Error).message), { cause: error });
  }
  const listed = exports['crews'];
  const crews = Array.isArray(listed)
    ? (listed as CrewClass[])
    : Object.values(exports).filter(isCrewClass);
  if (crews.length === 0) throw new CrewDefinitionError(messages.crewModuleExportsNothing(path));
  const providers = Array.isArray(exports['providers']) ? (exports['providers'] as ProviderRegistration[]) : [];
  return { crews, providers };
}

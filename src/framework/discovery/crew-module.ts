import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProviderRegistration } from '../app.js';
import { CrewDefinitionError } from '../errors.js';
import { messages } from '../messages.js';
import type { CrewClass } from './crew-definition.js';
import { isCrewClass } from './read-crew.js';

/** What a crews module gives: its crews, and the providers their constructors need. */
export interface CrewModule {
  readonly crews: CrewClass[];
  readonly providers: ProviderRegistration[];
}

/**
 * Imports a compiled crews module (the CLI's `--crews`; what an isolated crew's worker or child
 * process loads). Its crews are the `crews` array it exports, or else every
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

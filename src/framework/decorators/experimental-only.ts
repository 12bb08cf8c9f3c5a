import { CrewDefinitionError } from '../errors.js';
import { messages } from '../messages.js';

/**
 * Refuses a decorator applied as a standard (TC39) one, which a tsconfig without
 * `experimentalDecorators` compiles (tsc reports it, then emits anyway): its second argument is a
 * context object, where TypeScript's experimental decorators get a property key or nothing. Left
 * alone, the crew would load with no handler and no constructor metadata, and fail far from here.
 *
 * @throws CrewDefinitionError naming the decorator and the tsconfig options to set
 */
export function refuseStandardDecorator(decorator: string, second: unknown): void {
  if (typeof second === 'object' && second !== null && 'kind' in second) throw new CrewDefinitionError(messages.standardDecorator(decorator));
}

import 'reflect-metadata';

/** Every reflect-metadata key live-crew writes. Decorators write them; only discovery reads them. */

/** `@Crew` options, on the class (own metadata: a subclass is a crew only if decorated itself). */
export const CREW_METADATA = 'live-crew:crew';
/** `@OnEvent` handler records, on the class; a subclass inherits and extends its parent's. */
export const HANDLERS_METADATA = 'live-crew:handlers';
/** `@DependsOn` dependency inputs, on the class. */
export const DEPENDENCIES_METADATA = 'live-crew:dependencies';
/** `@UseInterceptors` lists: on the class (every handler) or on the prototype per method. */
export const INTERCEPTORS_METADATA = 'live-crew:interceptors';

import { nearestName } from '../config/nearest-name.js';
import type { CrewDefinition } from './crew-definition.js';

/** The event kinds a crew's handlers take; undefined when one takes every kind (`@OnEvent('*')`). */
export function kindsHandled(crew: CrewDefinition): ReadonlySet<string> | undefined {
  const kinds = new Set<string>();
  for (const { trigger } of crew.handlers) {
    if (trigger.any) return undefined;
    for (const kind of trigger.kinds) kinds.add(kind);
  }
  return kinds;
}

/** A kind that did not occur, with the nearest kind that did: `order_placd (did you mean order_placed?)`. */
export function missingKind(kind: string, seen: Iterable<string>): string {
  const nearest = nearestName(kind, seen);
  return nearest === undefined ? kind : `${kind} (did you mean ${nearest}?)`;
}

/**
 * The kinds among `seen` that no crew takes, nor waits for as an event dependency, each with the
 * nearest kind a crew takes (a typo in a handler shows from both sides).
 */
export function unhandledKinds(crews: readonly CrewDefinition[], seen: Iterable<string>): string[] {
  const handled = new Set<string>();
  for (const crew of crews) {
    const kinds = kindsHandled(crew);
    if (kinds === undefined) return [];
    for (const kind of kinds) handled.add(kind);
    for (const dependency of crew.dependencies) if (dependency.type === 'event') handled.add(dependency.event);
  }
  return [...seen].filter((kind) => !handled.has(kind)).map((kind) => missingKind(kind, handled));
}

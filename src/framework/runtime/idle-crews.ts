import type { CrewDefinition } from '../discovery/crew-definition.js';
import { kindsHandled, missingKind } from '../discovery/kind-coverage.js';
import { messages } from '../messages.js';
import { ErrorReason } from '../model/error-record.js';
import type { ErrorCounts } from './output-buffer.js';

/** A crew that made no call in a run, and why. */
export interface IdleCrew {
  readonly crew: string;
  /** `crew <id> never ran: <why>`, for a person. */
  readonly message: string;
}

/** What a run saw, to tell why a crew never ran. */
export interface RunActivity {
  /** Calls made per crew id. */
  readonly calls: ReadonlyMap<string, number>;
  /** The kinds of the events taken in. */
  readonly kindsSeen: ReadonlySet<string>;
  /** Error records per crew id and reason. */
  readonly errorsByCrew: ReadonlyMap<string, ErrorCounts>;
}

/**
 * The crews that made no call in a run, each with the likeliest reason: no event of its kinds
 * came (with the nearest kind that did: a typo in `@OnEvent`), its payload schema refused every
 * one, its dependencies were never met. A run with no event at all has no idle crews: nothing
 * could run, and its summary says so.
 */
export function idleCrews(crews: readonly CrewDefinition[], activity: RunActivity): IdleCrew[] {
  if (activity.kindsSeen.size === 0) return [];
  return crews.filter((crew) => (activity.calls.get(crew.id) ?? 0) === 0).map((crew) => ({ crew: crew.id, message: messages.crewNeverRan(crew.id, whyIdle(crew, activity)) }));
}

function whyIdle(crew: CrewDefinition, activity: RunActivity): string {
  const kinds = kindsHandled(crew);
  if (kinds !== undefined && ![...kinds].some((kind) => activity.kindsSeen.has(kind))) {
    return messages.noEventOfKinds(
      [...kinds].map((kind) => missingKind(kind, activity.kindsSeen)),
      [...activity.kindsSeen],
    );
  }
  const errors = activity.errorsByCrew.get(crew.id);
  const refused = errors?.[ErrorReason.InvalidEvent] ?? 0;
  const unmet = errors?.[ErrorReason.DependencyUnmet] ?? 0;
  if (refused > 0 || unmet > 0) return messages.crewCallsPrevented(refused, unmet);
  return messages.crewNotCalled;
}

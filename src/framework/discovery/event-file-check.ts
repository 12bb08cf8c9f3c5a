import { describeIssues, type Event } from '../model/event.js';
import { messages } from '../messages.js';
import type { CrewDefinition, HandlerDefinition } from './crew-definition.js';
import { kindsHandled, missingKind, unhandledKinds } from './kind-coverage.js';
import { nearestName } from '../config/nearest-name.js';

/** The most records of one sort (invalid, refused by one handler) listed one by one; the rest are counted. */
const LISTED = 5;
/** The most kinds no crew takes named one by one. */
const UNHANDLED_LISTED = 20;
/** The most distinct kinds told apart: a file of made-up kinds must not grow the check without end. */
const KINDS_KEPT = 10_000;

/** Per handler: the events its payload schema refused, the first few with where and why. */
interface Refusals {
  count: number;
  readonly listed: string[];
}

/**
 * Checks crews against a file of events without running them (`live-crew validate --events`):
 * the records that are no valid event, the payloads a handler's schema refuses, the kinds a
 * handler takes that never occur (a typo, when one that does is near), and the kinds no crew
 * takes. Certain mistakes are problems; what may be intended (a sample without every kind) is a
 * warning.
 */
export class EventFileCheck {
  readonly #crews: readonly CrewDefinition[];
  readonly #file: string;
  /** Events per kind, in order of first sight (the first KINDS_KEPT kinds). */
  readonly #kinds = new Map<string, number>();
  /** Events of kinds past KINDS_KEPT. */
  #uncounted = 0;
  readonly #invalid: Refusals = { count: 0, listed: [] };
  readonly #refused = new Map<HandlerDefinition, Refusals>();
  /** The handlers with a payload schema, per kind, built on first sight of the kind. */
  readonly #checked = new Map<string, Array<{ readonly crew: string; readonly handler: HandlerDefinition }>>();

  constructor(crews: readonly CrewDefinition[], file: string) {
    this.#crews = crews;
    this.#file = file;
  }

  /** A record that is no valid event, at `where` (`events.jsonl:7`). */
  invalid(problem: string, where: string): void {
    note(this.#invalid, `${where}: ${problem}`);
  }

  /** A valid event, at `where`: counted, and its payload checked by each handler that takes it. */
  event(event: Event, where: string): void {
    const count = this.#kinds.get(event.kind);
    if (count !== undefined) this.#kinds.set(event.kind, count + 1);
    else if (this.#kinds.size < KINDS_KEPT) this.#kinds.set(event.kind, 1);
    else {
      // Past the bound a kind is neither counted apart nor checked against its handlers' schemas.
      this.#uncounted++;
      return;
    }
    for (const { crew, handler } of this.#handlersOf(event.kind)) {
      const parsed = handler.payload!.safeParse(event.payload, { reportInput: true });
      if (parsed.success) continue;
      let refusals = this.#refused.get(handler);
      if (refusals === undefined) this.#refused.set(handler, (refusals = { count: 0, listed: [] }));
      note(refusals, `${where}: ${messages.handlerPayloadInvalid(crew, handler.method, describeIssues(parsed.error))}`);
    }
  }

  /** How many valid events, of how many kinds (at least, past KINDS_KEPT). */
  get counts(): { readonly events: number; readonly kinds: number } {
    let events = this.#uncounted;
    for (const count of this.#kinds.values()) events += count;
    return { events, kinds: this.#kinds.size };
  }

  /**
   * What was found: problems fail `validate`, warnings are printed beside an ok. Of many records
   * of one sort only the first few are listed, the last of them saying how many more there are
   * (`unlisted`).
   */
  report(): { problems: string[]; unlisted: number; warnings: string[] } {
    const problems = listed(this.#invalid, (more) => messages.moreInvalidRecords(more, this.#file));
    let unlisted = this.#invalid.count - this.#invalid.listed.length;
    for (const refusals of this.#refused.values()) {
      problems.push(...listed(refusals, (more) => messages.moreRefusedPayloads(more)));
      unlisted += refusals.count - refusals.listed.length;
    }
    const warnings: string[] = [];
    const seen = [...this.#kinds.keys()];
    for (const crew of this.#crews) {
      for (const kind of kindsHandled(crew) ?? []) {
        if (this.#kinds.has(kind)) continue;
        // A near kind that does occur: almost surely a typo in `@OnEvent`.
        (nearestName(kind, seen) !== undefined ? problems : warnings).push(messages.handledKindAbsent(crew.id, missingKind(kind, seen), this.#file));
      }
      for (const dependency of crew.dependencies) {
        if (dependency.type === 'event' && !this.#kinds.has(dependency.event)) warnings.push(messages.awaitedKindAbsent(crew.id, missingKind(dependency.event, seen), this.#file));
      }
    }
    const unhandled = unhandledKinds(this.#crews, seen);
    for (const kind of unhandled.slice(0, UNHANDLED_LISTED)) warnings.push(messages.kindUnhandled(kind, this.#file));
    if (unhandled.length > UNHANDLED_LISTED) warnings.push(messages.moreKindsUnhandled(unhandled.length - UNHANDLED_LISTED));
    if (this.#uncounted > 0) warnings.push(messages.kindsPastBound(KINDS_KEPT, this.#uncounted, this.#file));
    return { problems, unlisted, warnings };
  }

  #handlersOf(kind: string): ReadonlyArray<{ readonly crew: string; readonly handler: HandlerDefinition }> {
    let handlers = this.#checked.get(kind);
    if (handlers === undefined) {
      handlers = this.#crews.flatMap((crew) =>
        crew.handlers.filter((handler) => handler.payload !== undefined && (handler.trigger.any || handler.trigger.kinds.includes(kind))).map((handler) => ({ crew: crew.id, handler })),
      );
      this.#checked.set(kind, handlers);
    }
    return handlers;
  }
}

function note(refusals: Refusals, line: string): void {
  if (refusals.count++ < LISTED) refusals.listed.push(line);
}

/** The lines listed, the last saying how many more there are. */
function listed(refusals: Refusals, more: (count: number) => string): string[] {
  const lines = [...refusals.listed];
  if (refusals.count > LISTED) lines[LISTED - 1] += `\n${more(refusals.count - LISTED)}`;
  return lines;
}

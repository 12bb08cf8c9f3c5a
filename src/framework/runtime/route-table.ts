import type { CrewDefinition, HandlerDefinition } from '../discovery/crew-definition.js';
import { intercepted } from './interceptor.js';
import type { Interceptor } from '../ports/interceptor.js';
import type { ReloadableKnobs } from '../discovery/crew-knobs.js';
import type { Versions } from './versions.js';

/** A crew as it runs: its definition and instance (its error streak is per stream, in its lanes). */
export interface CrewRuntime {
  readonly definition: CrewDefinition;
  /** Its position in run order: the merge priority of its context writes. */
  readonly index: number;
  readonly instance: object;
  /** Per handler method: the interceptors around its calls, outermost first. */
  readonly interceptors: ReadonlyMap<string, readonly Interceptor[]>;
  /**
   * Its reloadable knobs by version, when the run can reload them (`run --watch`, or a replay of
   * such a run); otherwise its definition's hold for the whole run.
   */
  readonly knobs?: Versions<ReloadableKnobs>;
}

/** One handler an event kind triggers. */
export interface Route {
  readonly crew: CrewRuntime;
  readonly handler: HandlerDefinition;
  readonly call: (event: unknown, ctx: unknown) => unknown;
  /**
   * Whether its calls may leave work running (the handler is async, or has returned a promise):
   * such calls run as themselves, so what escapes them is theirs (`runAsCall`).
   */
  leavesWork: boolean;
  /** Its handler runs in another thread or process (an isolated crew's stand-in): whatever it leaves running is not here. */
  readonly runsElsewhere: boolean;
  /** Calls made (their event passed the payload schema): how a run tells the crews that never ran. */
  calls: number;
}

/**
 * Which handlers each event kind triggers, in crew run order, then declaration order. Built
 * once per kind on first sight, so the per-event lookup is one map read.
 */
export class RouteTable {
  readonly #crews: readonly CrewRuntime[];
  readonly #byKind = new Map<string, readonly Route[]>();

  constructor(crews: readonly CrewRuntime[]) {
    this.#crews = crews;
  }

  routesFor(kind: string): readonly Route[] {
    let routes = this.#byKind.get(kind);
    if (routes === undefined) {
      routes = this.#build(kind);
      this.#byKind.set(kind, routes);
    }
    return routes;
  }

  /** Calls made per crew id, of every crew. */
  callsPerCrew(): Map<string, number> {
    const calls = new Map(this.#crews.map((crew) => [crew.definition.id, 0]));
    for (const routes of this.#byKind.values()) for (const route of routes) calls.set(route.crew.definition.id, calls.get(route.crew.definition.id)! + route.calls);
    return calls;
  }

  #build(kind: string): Route[] {
    const routes: Route[] = [];
    for (const crew of this.#crews) {
      for (const handler of crew.definition.handlers) {
        if (handler.trigger.any || handler.trigger.kinds.includes(kind)) routes.push(routeTo(crew, handler));
      }
    }
    return routes;
  }
}

/** Marks a stand-in's method whose handler runs in an isolate: its calls never run as themselves here (`runAsCall`). */
export const RUNS_ELSEWHERE: unique symbol = Symbol('live-crew.runsElsewhere');

/** The route to one handler of a crew: its method, bound, inside its interceptors. */
export function routeTo(crew: CrewRuntime, handler: HandlerDefinition): Route {
  const method = (crew.instance as Record<string, (event: unknown, ctx: unknown) => unknown>)[handler.method]!;
  const chain = crew.interceptors.get(handler.method) ?? [];
  const call = intercepted(chain, method.bind(crew.instance), { crew: crew.definition.id, handler: handler.method });
  const runsElsewhere = (method as { [RUNS_ELSEWHERE]?: boolean })[RUNS_ELSEWHERE] === true;
  return { crew, handler, call, leavesWork: !runsElsewhere && method.constructor.name === 'AsyncFunction', runsElsewhere, calls: 0 };
}

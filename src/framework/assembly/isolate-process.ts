import { runnerLimits } from '../config/limits.js';
import { StreamContext } from '../context/stream-context.js';
import { loadCrewModule } from '../discovery/crew-module.js';
import { buildCrewGraph } from '../discovery/crew-graph.js';
import { CrewDefinitionError } from '../errors.js';
import { messages } from '../messages.js';
import type { EventEnvelope } from '../model/event.js';
import { CallScope, internal, type CallHost } from '../runtime/call-scope.js';
import { describeThrown } from '../describe-thrown.js';
import { constructCrews } from '../runtime/instantiate-crews.js';
import { Lane, StreamLanes } from '../runtime/lanes.js';
import { routeTo, type CrewRuntime, type Route } from '../runtime/route-table.js';
import { runAsCall, trapStrayFaults } from '../runtime/stray-faults.js';
import type { IsolateInit, RequestAnswer, IsolatedCalls } from '../runner-protocol.js';
import { ModelsByMessage } from '../isolation/isolated-models.js';
import { isolatePorts } from './port-bindings.js';
import { assembleResolved } from './process-assembly.js';
import { freezeJson } from '../model/frozen-json.js';
import type { IsolateChannel } from '../ports/isolate-launcher.js';

/** What the program needs of the runtime it runs on. */
export interface IsolateMachine {
  /** The isolate's heap and buffers, in MB. */
  usedMb(): number;
  /** Ends the isolate with an exit code. */
  exit(code: number): void;
}

/** The crew, ready to run calls. */
interface Hosted {
  readonly crew: CrewRuntime;
  readonly routes: ReadonlyMap<string, Route>;
  readonly crewCount: number;
  readonly host: CallHost;
}

/** How often an isolate with a `memoryLimitMb` measures what it holds, in ms. */
const MEMORY_CHECK_MS = 25;

/**
 * The program an isolated crew's worker thread or child process runs (DESIGN §8, §13): it
 * assembles itself as every process does, binding the isolate's ports, constructs the crew from
 * its module, as the app would, then runs the calls it is sent over `channel`, one at a time,
 * and answers each with what the call emitted and wrote. Its model calls are made by the app. The
 * adapter that launches isolates runs this in them.
 */
export function serveIsolate(channel: IsolateChannel, machine: IsolateMachine): void {
  // By the call, and by the call as its model calls see it (`internal.site`).
  const callIds = new WeakMap<object, number>();
  let hosted: Hosted | undefined;

  /** The app makes the crew's model calls (`ctx.model()`) and journals its effects (`ctx.recorded`). */
  const models = new ModelsByMessage(
    (message) => channel.send(message),
    (scope) => callIds.get(scope) ?? -1,
  );

  /**
   * Ends the isolate when it holds more than `limitMb`: V8's heap limit does not count buffers, so
   * a crew could otherwise take the machine's memory through them. Checked every MEMORY_CHECK_MS
   * and as each call ends, so a call that went over fails rather than succeeds.
   */
  function overMemory(limitMb: number | undefined): boolean {
    if (limitMb === undefined) return false;
    const used = machine.usedMb();
    if (used <= limitMb) return false;
    channel.send({ type: 'fatal', error: messages.isolateOverMemory(Math.round(used), limitMb) });
    // The app kills it on that message; exiting here ends it even if the message is slow to go.
    setTimeout(() => machine.exit(70), 100).unref();
    return true;
  }

  let memoryLimitMb: number | undefined;

  channel.on((message) => {
    const type = (message as { type?: unknown }).type;
    if (type === 'init') void start(message as IsolateInit);
    else if (type === 'calls' && hosted !== undefined) void run(hosted, message as IsolatedCalls);
    else if (type === 'answer') models.answered(message as RequestAnswer);
  });

  async function start(init: IsolateInit): Promise<void> {
    memoryLimitMb = init.memoryLimitMb;
    if (memoryLimitMb !== undefined) setInterval(() => overMemory(memoryLimitMb), MEMORY_CHECK_MS).unref();
    try {
      const { crews, providers } = await loadCrewModule(init.crewsModule);
      const graph = buildCrewGraph(crews);
      if (!graph.crews.some((crew) => crew.id === init.crewId)) throw new CrewDefinitionError(messages.isolatedCrewNotInModule(init.crewId, init.crewsModule));
      // Its crew runs here in process: the graph is the module's, without the app's isolation.
      const { container } = await assembleResolved({ config: init.config, graph }, { providers }, { ports: isolatePorts });
      // An isolate is killed, never stopped: its crew and services get onStart here, and no onStop.
      const {
        crews: [crew],
        hooks,
      } = constructCrews(container, graph, { providers, hosted: (id) => id === init.crewId });
      await hooks.start([crew!]);
      const routes = new Map(crew!.definition.handlers.map((handler) => [handler.method, routeTo(crew!, handler)]));
      const host: CallHost = {
        limits: runnerLimits(init.config),
        strayFault: (scope, error) => channel.send({ type: 'stray', id: callIds.get(scope) ?? -1, error: describeThrown(error) }),
        models,
      };
      // What escapes a call is its error; what escapes nothing goes to stderr, and the isolate goes on.
      trapStrayFaults((error, kind) => process.stderr.write(`${messages.unattributedFault(kind)}: ${describeThrown(error)}\n`));
      hosted = { crew: crew!, routes, crewCount: graph.crews.length, host };
      channel.send({ type: 'ready' });
    } catch (error) {
      channel.send({ type: 'fatal', error: describeThrown(error) });
    }
  }

  /**
   * Runs a lane's calls on the view they were sent, in order, each call's writes applied before
   * the next, answering each as it ends: a later call may never end (a loop the app stops at its
   * timeout, a crash), and what ended before it stands. Stops after a call that fails or runs
   * past its limit (the app will not have its writes), the rest answered as not run.
   */
  async function run({ crew, routes, crewCount, host }: Hosted, { calls, context }: IsolatedCalls): Promise<void> {
    const stream = new StreamLanes(calls[0]?.streamId ?? '', new StreamContext(context, crewCount, Number.MAX_SAFE_INTEGER), crewCount);
    // Lag 0: the view it was sent already holds its own writes not merged yet.
    const lane = new Lane(crew, stream, 0);
    const unrunAfter = (i: number) => calls.slice(i + 1).map((later) => later.id);
    for (const [i, call] of calls.entries()) {
      // The event arrives as a copy: frozen all through, as the decoder leaves it in the app's process.
      const event = freezeJson(call.event);
      const envelope: EventEnvelope = { event, tsMs: Date.parse(event.ts), origin: { name: call.source, locate: () => call.source }, position: call.position };
      const scope = new CallScope(routes.get(call.method)!, call.slice, envelope, lane, host);
      callIds.set(scope, call.id);
      callIds.set(internal.site(scope), call.id);
      const started = performance.now();
      try {
        await runAsCall(internal.faulting(scope), internal.route(scope).call, event, scope);
      } catch (error) {
        internal.end(scope, true);
        channel.send({ type: 'ran', results: [{ outcome: 'failed', id: call.id, error: describeThrown(error) }], unrun: unrunAfter(i) });
        return;
      }
      const ms = performance.now() - started;
      if (overMemory(memoryLimitMb)) return;
      internal.end(scope);
      internal.commitWrites(scope);
      const actions = internal.actions(scope).map(({ action }) => ({ kind: action.kind, payload: action.payload, ttlMs: action.ttl_ms }));
      const overTime = call.timeoutMs !== undefined && ms > call.timeoutMs;
      const last = overTime || i === calls.length - 1;
      channel.send({ type: 'ran', results: [{ outcome: 'called', id: call.id, actions, writes: internal.ownWrites(scope), ms }], unrun: last ? unrunAfter(i) : [] });
      if (overTime) return;
    }
  }
}

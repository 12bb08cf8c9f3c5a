import type { LiveCrewApp } from '../../framework/app.js';
import type { RunSummary } from '../../framework/assembly/run-summary.js';
import { RunnerGroups } from '../../framework/distributed/runner-groups.js';
import { messages } from '../../framework/messages.js';
import { runOwnedStream, runScheduledStream, serveGroupStream } from './owned-stream.js';
import { poolMemberApp, runPoolMemberApp, type PoolMemberOptions } from './pool-member.js';
import { SCHEDULER_LEASE_KEY } from './scheduler-lease.js';

/** Options of `poolWorkerApp`: an app's, and the worker's id. */
export type PoolWorkerOptions = PoolMemberOptions;

/** Options of `runStreamWorker`. */
export interface StreamWorkerOptions extends PoolWorkerOptions {
  /** Stops the worker: it hands its streams over and leaves the pool. */
  readonly signal?: AbortSignal;
}

/** Options of `runnerGroupApp`: an app's, the runner's id, and its group. */
export interface RunnerGroupOptions extends PoolMemberOptions {
  /** The runner group it serves: a key of the config's `runners`. */
  readonly group: string;
  /** Stops the runner (`runRunnerGroup`): it hands its streams over and leaves the pool. */
  readonly signal?: AbortSignal;
}

/**
 * Runs one worker of a pool until `signal` aborts (`live-crew worker`): see `poolWorkerApp`.
 *
 * @throws ConfigError as `createLiveCrewApp`, and for `kv_backend: memory`
 */
export async function runStreamWorker(options: StreamWorkerOptions): Promise<RunSummary> {
  return runPoolMemberApp(await poolWorkerApp(options), options.signal);
}

/**
 * One worker of a pool (DESIGN §12), as an app: what `createLiveCrewApp` makes under
 * `scheduler: nats`. Every copy runs the same crews with the same config, and no stream is
 * named. Each finds the streams in `LIVE_EVENTS`, claims unowned ones by their lease up to its
 * fair share (ceil(active streams / live workers), workers known by their beats in the pool
 * bucket), and runs each in process from its last commit. A worker over its share hands streams
 * over; a worker that dies loses its leases when they lapse, and the others take its streams from
 * their last commits. `run()` goes on until `stop()`, which hands every stream over; the streams'
 * context is in the shared backend, so `context()` has none.
 *
 * With runner groups in the config (`runners:`), a worker hosts only the crews no group hosts:
 * each stream it owns is scheduled as a distributed run, the groups' crews served by their
 * runners (`runnerGroupApp`) and the others by the worker.
 *
 * @throws ConfigError as `createLiveCrewApp`, for `kv_backend: memory`, and for runner groups that match no crew or share one
 */
export async function poolWorkerApp(options: PoolWorkerOptions): Promise<LiveCrewApp> {
  return poolMemberApp(options, (config, graph) => {
    const groups = RunnerGroups.of(config, graph);
    return {
      kind: 'worker',
      leaseKey: SCHEDULER_LEASE_KEY,
      hosts: (crewId) => groups.groupOf(crewId) === undefined,
      serve: groups.any ? runScheduledStream : (pool, streamId, _bucket, signal) => runOwnedStream(pool, streamId, signal),
      joined: messages.workerJoined,
    };
  });
}

/**
 * Runs one runner of a runner group until `signal` aborts (`live-crew runner --group <name>`):
 * see `runnerGroupApp`.
 *
 * @throws ConfigError as `runnerGroupApp`
 */
export async function runRunnerGroup(options: RunnerGroupOptions): Promise<RunSummary> {
  return runPoolMemberApp(await runnerGroupApp(options), options.signal);
}

/**
 * One runner of a runner group (DESIGN §5 amendments, §12), as an app. It hosts the crews the
 * group's pattern (`runners.<group>.crews`) selects and serves them for every stream: the
 * group's runners share the active streams as workers do (each claims its fair share by a lease
 * of its own, `runner.<group>.lease`, in the stream's run bucket), so a slow crew scales by
 * adding runners to its group. A runner that dies loses its leases when they lapse; another of
 * the group goes on with each crew from its progress.
 *
 * @throws ConfigError as `createLiveCrewApp`, for `kv_backend: memory`, and for a group the config does not name
 */
export async function runnerGroupApp(options: RunnerGroupOptions): Promise<LiveCrewApp> {
  return poolMemberApp(options, (config, graph) => ({
    kind: `runner.${options.group}`,
    leaseKey: `runner.${options.group}.lease`,
    hosts: RunnerGroups.of(config, graph).hostedBy(options.group),
    serve: serveGroupStream,
    joined: (id, crews) => messages.runnerJoined(id, options.group, crews),
  }));
}

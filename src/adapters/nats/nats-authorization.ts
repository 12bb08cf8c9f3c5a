import { randomBytes } from 'node:crypto';
import { journalSubject, LIVE_STREAMS, liveSubject, reportSubject, workSubject } from './jetstream-streams.js';
import { DEFAULT_WORK_GROUP } from '../../framework/config/runner-groups-config.js';
import { crewOwner, SCHEDULER_OWNER, type DecisionOwner } from '../../framework/replay/decision-keys.js';

/** A runner of a deployment: its name, the crews it hosts and the work groups they are in. */
export interface RunnerAccount {
  readonly name: string;
  /** The selector it runs with (`--selector`), for the note on how to start it. */
  readonly selector: string;
  readonly crews: readonly string[];
  /** The work groups of its crews (`RunnerGroups.workGroupOf`): it reads their work messages. */
  readonly groups: readonly string[];
}

/** One NATS user of a deployment and what it may publish and subscribe to. */
export interface NatsUser {
  readonly role: 'scheduler' | 'runner' | 'producer' | 'worker';
  readonly user: string;
  readonly password: string;
  /** How the process runs as this user. */
  readonly usage: string;
  readonly permissions: { readonly publish: { readonly allow: readonly string[] }; readonly subscribe: { readonly allow: readonly string[] } };
}

/** A runner group of a pool: its name and the crews it hosts. */
export interface RunnerGroupAccount {
  readonly name: string;
  readonly crews: readonly string[];
}

/** The work group of the crews a pool's workers run. */
const WORKER_GROUPS = [DEFAULT_WORK_GROUP];

/** Replies to requests and JetStream acknowledgements come back on inboxes. */
const INBOXES = '_INBOX.>';
const KV_PREFIX = 'live_crew';

/**
 * The NATS users of one stream's deployment (DESIGN §11): a scheduler, one runner per selector, a
 * producer. Each may touch only its own subjects and buckets:
 * - the producer publishes the stream's events, nothing else;
 * - the scheduler reads the stream's events and the runners' reports, sends work to every crew,
 *   records and reads its own decisions, and owns the stream's run and context buckets;
 * - a runner reads only its crews' work, reports only for its crews, records and reads only its
 *   crews' decisions, publishes (and reads) the stream's actions and errors, keeps only its
 *   crews' progress, and reads the stream's context and every crew's reports.
 * Consumers are created through the API subject that names their filter, so a user can read only
 * the subjects its permissions name. Passwords are random.
 */
export function deploymentUsers(streamId: string, runners: readonly RunnerAccount[]): NatsUser[] {
  const scope = streamScope(streamId);
  return [
    user('scheduler', `scheduler_${streamId}`, `live-crew scheduler --stream ${streamId}`, schedulerSubjects(scope), [liveSubject(streamId, 'heartbeats')]),
    ...runners.map((runner) =>
      user('runner', `runner_${runner.name}_${streamId}`, `live-crew runner --stream ${streamId} --selector '${runner.selector}'`, [
        ...runnerSubjects(scope, runner.crews, runner.groups),
        liveSubject(streamId, 'heartbeats'),
      ]),
    ),
    user('producer', `producer_${streamId}`, `live-crew publish <events> --stream ${streamId}`, [liveSubject(streamId, 'events')]),
  ];
}

/**
 * The NATS users of a pool (DESIGN §12): one user every worker shares, one per runner group, a
 * producer, each confined to live-crew's subjects and to its own crews' as in `deploymentUsers`,
 * for every stream. A worker schedules every stream and runs the crews no group hosts; a group's
 * runners run its crews. Per-stream buckets (`live_crew_run_<stream>`) cannot be named by a
 * subject wildcard (it matches whole tokens only), so a pool user's KV reads and bucket creation
 * reach every bucket of the server; its KV writes are confined by key (a worker's
 * `scheduler.*`, `snapshot` and its crews' `crew.<id>`; a runner's `runner.<group>.lease` and
 * its crews').
 */
export function poolUsers(localCrews: readonly string[], groups: readonly RunnerGroupAccount[]): NatsUser[] {
  const scope = streamScope('*');
  const pool = bucket(`${KV_PREFIX}_pool`);
  const watchPool = reading(pool.stream, `$KV.${KV_PREFIX}_pool.>`);
  return [
    user('worker', 'worker', 'live-crew worker', [...schedulerSubjects(scope), ...runnerSubjects(scope, localCrews, WORKER_GROUPS), ...pool.owner, ...watchPool]),
    ...groups.map((group) =>
      user('runner', `runner_${group.name}`, `live-crew runner --group ${group.name}`, [
        ...runnerSubjects(scope, group.crews, [group.name]),
        ...scope.run.key(`runner.${group.name}.lease`),
        ...pool.reader,
        ...watchPool,
        `$KV.${KV_PREFIX}_pool.runner.${group.name}.*`,
      ]),
    ),
    user('producer', 'producer', 'live-crew publish <events>', [liveSubject('*', 'events')]),
  ];
}

/** Every user may ask for JetStream's account info and the info of live-crew's streams. */
const COMMON = ['$JS.API.INFO', ...Object.values(LIVE_STREAMS).map(({ name }) => `$JS.API.STREAM.INFO.${name}`)];

function user(role: NatsUser['role'], name: string, usage: string, publish: readonly string[], subscribe: readonly string[] = []): NatsUser {
  return {
    role,
    user: name,
    password: randomBytes(18).toString('base64url'),
    usage,
    permissions: { publish: { allow: [...new Set([...COMMON, ...publish])] }, subscribe: { allow: [INBOXES, ...subscribe] } },
  };
}

/** Creating a consumer of `stream` filtered to `filter`, and using it. */
function reading(stream: string, filter: string): string[] {
  return [`$JS.API.CONSUMER.CREATE.${stream}.*.${filter}`, ...['MSG.NEXT', 'INFO', 'DELETE'].map((op) => `$JS.API.CONSUMER.${op}.${stream}.*`)];
}

/** What the subjects of one stream (`m1`), or of every stream (`*`), are made of. */
interface StreamScope {
  readonly streamId: string;
  readonly run: KvSubjects;
  readonly ctx: KvSubjects;
}

function streamScope(streamId: string): StreamScope {
  // Every stream's buckets: a wildcard cannot end a token, so it stands for the whole bucket name.
  const of = (kind: string) => (streamId === '*' ? bucket('*') : bucket(`${KV_PREFIX}_${kind}_${streamId}`));
  return { streamId, run: of('run'), ctx: of('ctx') };
}

/** Each process publishes and reads only its own owners' decisions (DESIGN §5 amendments). */
function journal(streamId: string, owner: DecisionOwner): string[] {
  return [journalSubject(streamId, owner), ...reading(LIVE_STREAMS.journal.name, journalSubject(streamId, owner))];
}

/** A scheduler's: the stream's events and reports read, work sent, its run and context buckets owned, its decisions. */
function schedulerSubjects({ streamId, run, ctx }: StreamScope): string[] {
  return [
    ...Object.values(LIVE_STREAMS).map(({ name }) => `$JS.API.STREAM.CREATE.${name}`),
    ...run.owner,
    ...ctx.owner,
    // Named for a pool, whose users own no bucket whole: the lease and checkpoint, the context.
    ...run.key('scheduler.*'),
    ...ctx.key('snapshot'),
    ...reading(LIVE_STREAMS.events.name, liveSubject(streamId, 'events')),
    ...reading(LIVE_STREAMS.slices.name, reportSubject(streamId, '*', '*')),
    workSubject(streamId, '*'),
    liveSubject(streamId, 'errors'),
    liveSubject(streamId, 'heartbeats'),
    liveSubject(streamId, 'ctx'),
    ...journal(streamId, SCHEDULER_OWNER),
  ];
}

/**
 * A runner's of `crews`: the work of their `groups` read (a group's messages carry the calls of
 * every crew in it), their reports sent, their progress kept, their decisions; every report and
 * the context read.
 */
function runnerSubjects({ streamId, run, ctx }: StreamScope, crews: readonly string[], groups: readonly string[]): string[] {
  return [
    ...run.open,
    ...crews.flatMap((crew) => run.key(`crew.${crew}`)),
    ...ctx.reader,
    ...groups.flatMap((group) => reading(LIVE_STREAMS.slices.name, workSubject(streamId, group))),
    ...crews.map((crew) => reportSubject(streamId, '*', crew)),
    // Every crew's reports: a runner merges the slices its crews start from (`MergedContextReplica`).
    ...reading(LIVE_STREAMS.slices.name, reportSubject(streamId, '*', '*')),
    liveSubject(streamId, 'actions'),
    liveSubject(streamId, 'errors'),
    // What a killed predecessor published after its last progress save is looked up there.
    ...reading(LIVE_STREAMS.actions.name, liveSubject(streamId, 'actions')),
    ...reading(LIVE_STREAMS.errors.name, liveSubject(streamId, 'errors')),
    ...crews.flatMap((crew) => journal(streamId, crewOwner(crew))),
  ];
}

/** The API subjects of a KV bucket: to open it, to read it, to own it, to write one key. */
interface KvSubjects {
  /** Its JetStream stream (`KV_<name>`). */
  readonly stream: string;
  readonly open: readonly string[];
  readonly reader: readonly string[];
  readonly owner: readonly string[];
  key(key: string): string[];
}

/** A bucket's subjects by name; `*`: every bucket's. */
function bucket(name: string): KvSubjects {
  const stream = name === '*' ? '*' : `KV_${name}`;
  const open = [`$JS.API.STREAM.INFO.${stream}`, `$JS.API.STREAM.CREATE.${stream}`];
  // A bucket bound without direct gets reads through MSG.GET, whose key is in the body: whole-bucket readers only.
  const reader = [...open, `$JS.API.DIRECT.GET.${stream}.>`, `$JS.API.STREAM.MSG.GET.${stream}`];
  return {
    stream,
    open,
    reader,
    // Every bucket's keys cannot be anybody's: a user of all of them writes the keys it names.
    owner: name === '*' ? reader : [...reader, `$KV.${name}.>`],
    key: (key) => [`$KV.${name}.${key}`, `$JS.API.DIRECT.GET.${stream}.$KV.${name}.${key}`],
  };
}

/**
 * The users as a nats-server configuration block (`authorization { users = [...] }`), with a
 * comment saying how each process runs as its user. Subjects are quoted: `$` starts a variable
 * in an unquoted value. `deployment`: what the users serve (`stream m1`, `a pool of workers`).
 */
export function authorizationConfig(deployment: string, users: readonly NatsUser[]): string {
  const first = users.some((u) => u.role === 'worker') ? 'a worker' : 'the scheduler';
  const lines = [
    `# live-crew acl: NATS users of ${deployment} (include this in the nats-server config)`,
    '# Run each process with its user (LIVE_CREW_NATS_USER, LIVE_CREW_NATS_PASS):',
    ...users.map((u) => `#   ${u.usage}  as ${u.user}`),
    `# Start ${first} first: it creates the streams and buckets the others only open.`,
    'authorization {',
    '  users = [',
    ...users.map((u) => `    ${JSON.stringify({ user: u.user, password: u.password, permissions: u.permissions })}`),
    '  ]',
    '}',
    '',
  ];
  return lines.join('\n');
}

import { randomBytes } from 'node:crypto';
import { journalSubject, LIVE_STREAMS, liveSubject, sliceSubject } from './jetstream-streams.js';
import { crewOwner, SCHEDULER_OWNER, type DecisionOwner } from '../../framework/replay/decision-keys.js';

/** A runner of a deployment: its name and the crews it hosts. */
export interface RunnerAccount {
  readonly name: string;
  /** The selector it runs with (`--selector`), for the note on how to start it. */
  readonly selector: string;
  readonly crews: readonly string[];
}

/** One NATS user of a deployment and what it may publish and subscribe to. */
export interface NatsUser {
  readonly role: 'scheduler' | 'runner' | 'producer';
  readonly user: string;
  readonly password: string;
  /** How the process runs as this user. */
  readonly usage: string;
  readonly permissions: { readonly publish: { readonly allow: readonly string[] }; readonly subscribe: { readonly allow: readonly string[] } };
}

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
 *   crews' decisions, publishes the stream's actions and errors, keeps only its crews' progress,
 *   and reads the stream's context and every crew's reports.
 * Consumers are created through the API subject that names their filter, so a user can read only
 * the subjects its permissions name. Passwords are random.
 */
export function deploymentUsers(streamId: string, runners: readonly RunnerAccount[]): NatsUser[] {
  const run = bucket(`${KV_PREFIX}_run_${streamId}`);
  const ctx = bucket(`${KV_PREFIX}_ctx_${streamId}`);
  const liveStreams = Object.values(LIVE_STREAMS).map(({ name }) => name);
  const common = ['$JS.API.INFO', ...liveStreams.map((name) => `$JS.API.STREAM.INFO.${name}`)];
  const reading = (stream: string, filter: string) => [`$JS.API.CONSUMER.CREATE.${stream}.*.${filter}`, ...['MSG.NEXT', 'INFO', 'DELETE'].map((op) => `$JS.API.CONSUMER.${op}.${stream}.*`)];
  // Each process publishes and reads only its own owners' decisions (DESIGN §5 amendments).
  const journal = (owner: DecisionOwner) => [journalSubject(streamId, owner), ...reading(LIVE_STREAMS.journal.name, journalSubject(streamId, owner))];
  const user = (role: NatsUser['role'], name: string, usage: string, publish: readonly string[], subscribe: readonly string[] = []): NatsUser => ({
    role,
    user: name,
    password: randomBytes(18).toString('base64url'),
    usage,
    permissions: { publish: { allow: [...new Set([...common, ...publish])] }, subscribe: { allow: [INBOXES, ...subscribe] } },
  });
  const scheduler = user(
    'scheduler',
    `scheduler_${streamId}`,
    `live-crew scheduler --stream ${streamId}`,
    [
      ...liveStreams.map((name) => `$JS.API.STREAM.CREATE.${name}`),
      ...run.owner,
      ...ctx.owner,
      ...reading(LIVE_STREAMS.events.name, liveSubject(streamId, 'events')),
      ...reading(LIVE_STREAMS.slices.name, sliceSubject(streamId, '*', '*', 'done')),
      sliceSubject(streamId, '*', '*', 'ready'),
      liveSubject(streamId, 'errors'),
      liveSubject(streamId, 'heartbeats'),
      liveSubject(streamId, 'ctx'),
      ...journal(SCHEDULER_OWNER),
    ],
    // It watches its runners' heartbeats.
    [liveSubject(streamId, 'heartbeats')],
  );
  const runnerUsers = runners.map((runner) =>
    user('runner', `runner_${runner.name}_${streamId}`, `live-crew runner --stream ${streamId} --selector '${runner.selector}'`, [
      ...run.open,
      ...runner.crews.flatMap((crew) => run.key(`crew.${crew}`)),
      ...ctx.reader,
      ...runner.crews.flatMap((crew) => [...reading(LIVE_STREAMS.slices.name, sliceSubject(streamId, '*', crew, 'ready')), sliceSubject(streamId, '*', crew, 'done')]),
      // Every crew's reports: a runner merges the slices its crews start from (`MergedContextReplica`).
      ...reading(LIVE_STREAMS.slices.name, sliceSubject(streamId, '*', '*', 'done')),
      liveSubject(streamId, 'actions'),
      liveSubject(streamId, 'errors'),
      liveSubject(streamId, 'heartbeats'),
      ...runner.crews.flatMap((crew) => journal(crewOwner(crew))),
    ]),
  );
  const producer = user('producer', `producer_${streamId}`, `live-crew publish <events> --stream ${streamId}`, [liveSubject(streamId, 'events')]);
  return [scheduler, ...runnerUsers, producer];
}

/** The API subjects of a KV bucket: to own it, to open it, to read it, to write one key. */
function bucket(name: string) {
  const open = [`$JS.API.STREAM.INFO.KV_${name}`, `$JS.API.STREAM.CREATE.KV_${name}`];
  // A bucket bound without direct gets reads through MSG.GET, whose key is in the body: whole-bucket readers only.
  const reader = [...open, `$JS.API.DIRECT.GET.KV_${name}.>`, `$JS.API.STREAM.MSG.GET.KV_${name}`];
  return {
    open,
    reader,
    owner: [...reader, `$KV.${name}.>`],
    key: (key: string) => [`$KV.${name}.${key}`, `$JS.API.DIRECT.GET.KV_${name}.$KV.${name}.${key}`],
  };
}

/**
 * The users as a nats-server configuration block (`authorization { users = [...] }`), with a
 * comment saying how each process runs as its user. Subjects are quoted: `$` starts a variable
 * in an unquoted value.
 */
export function authorizationConfig(streamId: string, users: readonly NatsUser[]): string {
  const lines = [
    `# live-crew acl: NATS users of stream ${streamId} (include this in the nats-server config)`,
    '# Run each process with its user (LIVE_CREW_NATS_USER, LIVE_CREW_NATS_PASS):',
    ...users.map((u) => `#   ${u.usage}  as ${u.user}`),
    '# Start the scheduler first: it creates the streams and buckets the others only open.',
    'authorization {',
    '  users = [',
    ...users.map((u) => `    ${JSON.stringify({ user: u.user, password: u.password, permissions: u.permissions })}`),
    '  ]',
    '}',
    '',
  ];
  return lines.join('\n');
}

import { z } from 'zod';
import { adapterNames, type PortName } from '../adapter-names.js';
import { messages } from '../messages.js';
import { durationMs } from './durations.js';
import { EmbeddersSchema, ModelsSchema } from './model-config.js';
import { RunnerGroupsSchema } from './runner-groups-config.js';
import { VectorConfigSchema } from './vector-config.js';

/**
 * A port's adapter by name: a built-in one, or one a program registered (`registerAdapter`)
 * before its config is read.
 */
function registeredAdapter(port: PortName, builtIn: readonly string[]) {
  const names = () => [...new Set([...builtIn, ...adapterNames(port)])];
  return z.string().refine((name) => names().includes(name), { error: () => messages.mustBeRegisteredAdapter(port, names()) });
}

const positiveInt = (what: string) =>
  z
    .number({ error: `must be a number (${what})` })
    .int({ error: 'must be an integer' })
    .positive({ error: 'must be > 0' });

/** A JetStream stream's retention (`max_age`) in ms: at least a minute, not bounded by Node's timers; null keeps everything. */
const retentionMs = z.number({ error: 'must be a number (milliseconds)' }).int({ error: 'must be an integer' }).min(60_000, { error: 'must be at least 60000 (a minute)' }).nullable();

const path = z.string({ error: 'must be a string: a file path, or - for the standard stream' }).min(1, { error: 'must not be empty' });

/**
 * Every configuration key, without defaults: a layer (file, env, options) may set any subset.
 * Adapter names list only what this build provides, so a typo is caught at start.
 */
export const configShape = {
  /** Slice length in ms. */
  slice_ms: durationMs(1),
  /** How far behind the newest event another may arrive and still be processed, in ms. */
  lateness_ms: durationMs(0),
  /** The largest context snapshot, as JSON bytes. */
  context_max_bytes: positiveInt('bytes'),
  /** The largest event or action payload, as JSON bytes. */
  payload_max_bytes: positiveInt('bytes'),
  /** The most actions one handler call may emit (they are held until it ends). */
  max_actions_per_call: positiveInt('actions'),
  /**
   * The most handler calls queued or running at once in the process; past it, input pauses until
   * calls end (backpressure). Synchronous calls end at once and never count.
   */
  max_in_flight: positiveInt('calls'),
  /** The deepest nesting of arrays and objects in an event or action payload or a context value. */
  payload_max_depth: positiveInt('levels').max(1000, { error: 'must be at most 1000 (deeper values overflow recursive JSON tools)' }),
  /**
   * The longest input line (a JSONL line, a message body), in bytes; a longer one is skipped while
   * it streams and reported. null: `payload_max_bytes` plus 16 KiB for the event's other fields.
   */
  line_max_bytes: positiveInt('bytes').nullable(),
  /** How `input` is read: by its extension (`.json`: one JSON array; anything else and stdin: JSONL), or as named. */
  input_format: z.enum(['auto', 'jsonl', 'json']),
  /**
   * Live mode: an event stamped more than this ahead of the wall clock is refused (a producer
   * with a broken clock); null: no limit.
   */
  max_future_ms: durationMs(0).nullable(),
  /**
   * An event more than this ahead of its stream's newest event is held apart until a later event
   * of the stream confirms the jump (lands within this of it); an event back on the old timeline
   * refutes it and it is refused. null: no guard.
   */
  max_jump_ms: durationMs(1).nullable(),
  /**
   * A stream whose slices are all closed and that has had no event for this long is forgotten by
   * the engine (its context stays in the backend, reloaded if it comes back). Event time of the
   * newest event of any stream in batch mode, wall time in live mode. null: never.
   */
  stream_idle_ms: durationMs(1).nullable(),
  /** How long a stopping app (SIGTERM, end of input) waits for calls in flight before it reports them and gives up. */
  stop_timeout_ms: durationMs(0),
  /**
   * Where a crew that sets no `isolation` runs: in this process (`none`), in a worker thread
   * (`worker`), or in a child process (`process`). Isolated crews can be stopped mid-call.
   */
  isolation: z.enum(['none', 'worker', 'process']),
  /**
   * Paths a crew with `isolation: process` may write to (Node's permission model); nothing else
   * is writable, and it may start no process or worker. From env: paths separated by `:`.
   */
  isolation_allow_write: z.array(path),
  /**
   * Where events come from and actions go: files (or stdin/stdout), NATS JetStream, or an adapter
   * registered for the `source` port (`registerAdapter('source', 'kafka', …)`, with `actions`,
   * `errors` and `journal` under the same name).
   */
  transport: registeredAdapter('source', ['file', 'nats']),
  /** With `transport: nats`, the durable consumer's name: a restarted app goes on where it left off. */
  nats_consumer: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, { error: 'must be 1-64 letters, digits, _ or -' }),
  /** Where shared context is kept: in process, in Redis, in JetStream KV buckets, or an adapter registered for the `context` port. */
  kv_backend: registeredAdapter('context', ['memory', 'redis', 'jetstream']),
  /** The NATS server(s) for `jetstream`. */
  nats_url: z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, { error: 'must be a nats:// (or tls://, ws://) URL' }),
  /** NATS user and password, or null. */
  nats_user: z.string().min(1).nullable(),
  nats_pass: z.string().nullable(),
  /** NATS token, or null. */
  nats_token: z.string().min(1).nullable(),
  /** A NATS credentials file (JWT + nkey seed), or null. */
  nats_creds: z.string().min(1).nullable(),
  /** TLS files for NATS (CA, client certificate and key), or null. */
  nats_tls_ca: z.string().min(1).nullable(),
  nats_tls_cert: z.string().min(1).nullable(),
  nats_tls_key: z.string().min(1).nullable(),
  /** The Redis server for `redis`. */
  redis_url: z.string().regex(/^rediss?:\/\/\S+$/, { error: 'must be a redis:// (or rediss://) URL' }),
  /**
   * Who decides slice boundaries and readiness: this process (`memory`), or a distributed
   * scheduler per stream over NATS (`nats`: `live-crew scheduler` and `live-crew runner`).
   */
  scheduler: z.enum(['memory', 'nats']),
  /**
   * Runner groups (DESIGN §5 amendments): `{ <group>: { crews: <regex> } }`. The crews a group's
   * pattern matches (whole ids) are hosted by `live-crew runner --group <group>` processes, each
   * serving its share of every stream; the other crews run in the process that owns the stream.
   * From env: JSON. {}: none.
   */
  runners: RunnerGroupsSchema,
  /**
   * Distributed runs: how long a scheduler's lease lasts without renewal, in ms. A standby takes
   * over at most this long after the leader dies (at once when it stops cleanly).
   */
  lease_ms: durationMs(300),
  /**
   * Distributed runs: a scheduler stores a checkpoint every this many committed slices; a
   * successor goes on from the last one, reading only the input after it.
   */
  checkpoint_slices: positiveInt('slices'),
  /**
   * Distributed runs: how long JetStream keeps events (`LIVE_EVENTS`), crews' work and reports
   * (`LIVE_SLICES`) and journaled decisions (`LIVE_JOURNAL`), in ms; null keeps everything (the
   * streams as they are). Checkpoints make dropping old messages safe (the scheduler checks the
   * retention leaves room for them).
   */
  events_retention_ms: retentionMs,
  slices_retention_ms: retentionMs,
  journal_retention_ms: retentionMs,
  /**
   * The crews the CLI runs when a command is given no `--crews`: compiled JS modules, `.crew.yaml`
   * files or folders of either, as `--crews` takes them (env: separated by the path delimiter).
   */
  crews: z.array(path),
  /** The event file (`.json` array or `.jsonl`), or `-` for stdin. */
  input: path,
  /** The action file (JSONL), or `-` for stdout. */
  output: path,
  /** The error file (JSONL), or `-` for stderr. */
  errors: path,
  /** A file for each merged slice's `__context` record (JSONL); null: none (over NATS they go on `live.<stream>.ctx`). */
  context_out: path.nullable(),
  /**
   * `batch`: slices close by event time only (a file processed as fast as it is read). `live`:
   * wall-clock progress closes slices too, so an idle stream still moves on.
   */
  mode: z.enum(['batch', 'live']),
  /**
   * In live mode, replay input at its recorded speed times this factor (1 = real time, 10 = ten
   * times faster); null feeds events as they are read.
   */
  pace: z.number({ error: 'must be a number (a speed factor)' }).positive({ error: 'must be > 0' }).nullable(),
  /**
   * `true`: a call runs as soon as its inputs are decided (its event arrives, the previous slice
   * is closed). `false`: every call waits for its slice to close: same output, higher latency.
   */
  eager_dispatch: z.boolean({ error: 'must be true or false' }),
  /** Where to record wall-clock decisions (JSONL), or null for nowhere. */
  journal: path.nullable(),
  /** A journal to replay: its decisions are repeated and none is taken from the clock. */
  replay: path.nullable(),
  /**
   * What a replay does with a model call the journal lacks, or whose request changed since it was
   * recorded: `fail` it as `replay_divergence`, or ask the model again (`live`).
   */
  replay_missing: z.enum(['fail', 'live']),
  /** The language models crews call, by name: `{ provider, model, api_key_env, base_url }` (DESIGN §9). */
  models: ModelsSchema,
  /** The embedding models, by name: `{ provider, model, dimensions }` (DESIGN §10); `hash` is an offline one. */
  embedders: EmbeddersSchema,
  /** Vector search (`ctx.vectors`): `{ backend, path | url, embedder, collections }`; null: off (DESIGN §10). */
  vector: VectorConfigSchema.nullable(),
  /** The port `/metrics` (Prometheus) is served on by `run`, `scheduler` and `runner`; null: not served. */
  metrics_port: z.number({ error: 'must be a port number' }).int({ error: 'must be an integer' }).min(0, { error: 'must be 0-65535' }).max(65_535, { error: 'must be 0-65535' }).nullable(),
  /** The lowest level logged (JSON lines on stderr). */
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  /** Seconds between a process's heartbeats (`__hb`); a gap over 3 beats is reported. */
  heartbeat_s: z.number({ error: 'must be a number (seconds)' }).positive({ error: 'must be > 0' }).max(2_147_483, { error: 'must be at most 2147483 (the longest timer Node accepts)' }),
} as const;

/** The keys of the configuration. */
export type ConfigKey = keyof typeof configShape;

/** The settings a run uses, every key resolved. */
export type LiveCrewConfig = { -readonly [K in ConfigKey]: z.infer<(typeof configShape)[K]> };

/** A partial configuration, as one layer gives it. */
export type LiveCrewConfigInput = Partial<LiveCrewConfig>;

/** The defaults, the bottom layer. */
export const CONFIG_DEFAULTS: LiveCrewConfig = {
  slice_ms: 500,
  lateness_ms: 0,
  context_max_bytes: 4096,
  payload_max_bytes: 65_536,
  payload_max_depth: 64,
  max_actions_per_call: 10_000,
  max_in_flight: 10_000,
  line_max_bytes: null,
  input_format: 'auto',
  max_future_ms: 60_000,
  max_jump_ms: 3_600_000,
  stream_idle_ms: 600_000,
  stop_timeout_ms: 10_000,
  isolation: 'none',
  isolation_allow_write: [],
  transport: 'file',
  nats_consumer: 'live-crew',
  kv_backend: 'memory',
  nats_url: 'nats://127.0.0.1:4222',
  nats_user: null,
  nats_pass: null,
  nats_token: null,
  nats_creds: null,
  nats_tls_ca: null,
  nats_tls_cert: null,
  nats_tls_key: null,
  redis_url: 'redis://127.0.0.1:6379',
  scheduler: 'memory',
  runners: {},
  lease_ms: 5000,
  checkpoint_slices: 10,
  events_retention_ms: null,
  slices_retention_ms: null,
  journal_retention_ms: null,
  crews: [],
  input: '-',
  output: '-',
  errors: '-',
  context_out: null,
  mode: 'batch',
  pace: null,
  eager_dispatch: true,
  journal: null,
  replay: null,
  replay_missing: 'fail',
  models: {},
  embedders: {},
  vector: null,
  metrics_port: null,
  log_level: 'info',
  heartbeat_s: 5,
};

/** One layer: a strict partial object, so an unknown key is an error. */
export const ConfigLayerSchema = z.strictObject(configShape).partial();

/** The keys whose values are numbers: env vars for them are converted before checking. */
export const NUMERIC_KEYS: ReadonlySet<ConfigKey> = new Set(
  (Object.keys(configShape) as ConfigKey[]).filter((key) => {
    const schema: z.ZodType = configShape[key];
    return schema instanceof z.ZodNumber || (schema instanceof z.ZodNullable && schema.unwrap() instanceof z.ZodNumber);
  }),
);

/**
 * Every message text live-crew shows a user, in one place, so wording stays consistent and each
 * message says what failed, where, and how to fix it.
 */

/** A vector collection's shape as messages show it (`model/vector.ts` has the type; messages import nothing of the model). */
type CollectionShape = { readonly dimension: number; readonly metric: string };
import type { ConstructionFailure } from './errors.js';
import { describeThrown } from './describe-thrown.js';

const MAX_SHOWN = 80;

/** A value as it appears in a message: JSON, cut to a readable length. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined || typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    // Nested too deep to stringify, a cycle, or a value whose own methods throw: it is not shown.
    text = `(${typeof value === 'object' && value !== null ? (Array.isArray(value) ? 'an array' : 'an object') : `a ${typeof value}`} that cannot be shown)`;
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** A zod-style issue path as `payload.items[2].name`; the empty path is `(root)`. */
export function showPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

export const messages = {
  // Log lines (DESIGN §6): what a process tells its operator.
  heartbeatGap: (gap: number, intervalMs: number) => `heartbeat gap: ${gap} ms since the last beat (more than 3 beats of ${intervalMs} ms)`,
  sliceMerged: 'slice merged',
  heartbeatLine: '__hb',
  modelRequest: 'model request',
  modelCallEnded: 'model call',
  crewFileReloaded: (file: string) => `reloaded ${file}`,
  runStarted: 'run started',
  runFinished: 'run finished',
  schedulerStandby: (stream: string, holder: string) => `standby for stream ${stream}: ${holder} schedules it; waiting to take over`,
  schedulingStream: (stream: string) => `scheduling stream ${stream}`,
  sliceWaitsForReports: (slice: number, crews: readonly string[]) => `slice ${slice} waits for the report of ${crews.join(', ')}: is a runner hosting ${crews.length === 1 ? 'it' : 'them'} running?`,
  checkpointNotWritten: (detail: string) => `checkpoint not written (a successor goes on from an older one): ${detail}`,
  resumingFromCheckpoint: (stream: string, slice: number, position: number) => `stream ${stream}: going on from the checkpoint of slice ${slice} (input after position ${position})`,
  leaseLost: (stream: string) => `another scheduler took the lease of stream ${stream}; stopping`,
  workerJoined: (worker: string, crews: number) => `worker ${worker} joined the pool with ${crews} crews: it claims streams up to its fair share`,
  streamClaimed: (stream: string, takeover: boolean) => `stream ${stream} claimed${takeover ? ' from a worker whose lease lapsed' : ''}: running it from its last commit`,
  streamHandedOver: (stream: string, share: number) => `stream ${stream} handed over: this worker owns more than its fair share of ${share}`,
  streamLeaseLost: (stream: string) => `another worker took the lease of stream ${stream}: giving it up at once`,
  streamReleasedIdle: (stream: string, idleMs: number) => `stream ${stream} released: no event for ${idleMs} ms (stream_idle_ms); it is claimed again when events return`,
  ownedStreamFailed: (stream: string, detail: string) => `stream ${stream} stopped on an error and goes back to the pool: ${detail}`,
  poolStepFailed: (detail: string) => `could not look at the pool this time (tried again in a third of a lease): ${detail}`,
  runnerJoined: (runner: string, group: string, crews: number) => `runner ${runner} of group ${group} joined the pool with ${crews} crews: it serves them for its fair share of the streams`,
  memberLeft: (member: string, streams: number) => `${member} left the pool, handing over ${streams} streams`,
  streamInputEnded: (stream: string) => `stream ${stream}: input ended; every slice committed`,
  runnerHosting: (stream: string, crews: readonly string[]) => `stream ${stream}: hosting ${crews.join(', ')}`,
  viewerSkipsMessage: (subject: string) => `dashboard: a message on ${subject} is not what live-crew publishes there; such messages are skipped`,
  viewerReadingStopped: (stream: string, detail: string) => `dashboard: reading ${stream} stopped: ${detail}`,
  // The parser's message quotes the input: its control characters are shown escaped, so no input can make a line of its own.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
  notJson: (detail: string) => `not valid JSON: ${detail.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1))}`,
  foreignJsonTooDeep: (max: number) => `nested deeper than ${max} levels, past what live-crew writes there`,
  foreignJsonTooLarge: (bytes: number, max: number) => `${bytes} bytes, over the ${max} live-crew reads in one piece`,
  streamMismatch: (named: string, where: string) =>
    `event names stream "${named}" but came in on ${where.replace(/#\d+$/, '')}: a stream's events must be published on its own subject (live.${named}.events)`,
  lineTooLong: (bytes: number, max: number) => `record is ${bytes} bytes, over line_max_bytes ${max}; it was skipped (raise line_max_bytes or payload_max_bytes to accept it)`,
  invalidEvent: (problems: string) => `invalid event: ${problems}`,
  issue: (path: string, message: string, input: unknown, hasInput: boolean) => (hasInput ? `${path}: ${message} (got ${showValue(input)})` : `${path}: ${message}`),
  reservedKind: (kind: string) => `kind "${kind}" is reserved (kinds starting with "__" are live-crew's own)`,
  payloadTooLarge: (bytes: number, max: number) => `payload is ${bytes} bytes, over the limit of ${max} (payload_max_bytes)`,
  payloadNotJson: () => 'payload must be a JSON value (no functions, undefined, cycles, NaN or Infinity)',
  eventFromFuture: (aheadMs: number, max: number) => `event is stamped ${aheadMs} ms ahead of the wall clock, over max_future_ms ${max} (a producer's clock is wrong?); refused`,
  timeJumpRefused: (aheadMs: number, max: number, newest: string) =>
    `event jumps ${aheadMs} ms ahead of the stream's newest event (${newest}), over max_jump_ms ${max}, and no later event confirmed the jump; refused so one bad clock cannot make the rest of the stream late (raise max_jump_ms for streams with longer pauses)`,
  lateEvent: (slice: number, openFrom: number) => `event belongs to slice ${slice}, already closed (slices below ${openFrom} are closed); raise lateness_ms to accept it`,
  handlerPayloadInvalid: (crew: string, method: string, problems: string) => `payload rejected by ${crew}.${method}: ${problems}`,
  handlerThrew: (crew: string, method: string, message: string) => `${crew}.${method} threw: ${message}`,
  dependencyUnmet: (crew: string, slice: number, unmet: readonly string[], events: number) =>
    `crew ${crew} skipped slice ${slice} (${events} event${events === 1 ? '' : 's'} not processed): ${unmet.join('; ')}`,
  waitsOnLaggedCrew: (crew: string, lagging: string, offset: number, lag: number) =>
    `crew ${crew} depends on ${lagging} at offset ${offset}, inside ${lagging}'s lag of ${lag}: each slice of ${crew} waits until ${lagging} has finished its slice n${offset === 0 ? '' : ` - ${-offset}`}, so ${crew} is as slow as ${lagging}; declare offset ${-(lag + 1)} or lower to use its merged output without waiting`,
  crewDisabled: (crew: string, errors: number) => `crew ${crew} disabled after ${errors} consecutive errors (maxErrors); other crews go on`,

  modelOverBudget: (call: string, why: string) => `${call} refused: over the crew's model budget (${why}); the handler call fails as budget`,
  replayDiverged: (call: string, parts: readonly string[]) =>
    `${call} differs from the recording: ${parts.join(', ')} changed since it was recorded; the recorded answer is not used (re-record the journal, or run with --replay-missing live to ask the model again)`,
  replayMissing: (call: string) => `${call} is not in the journal being replayed: the recorded run made no such call; run with --replay-missing live to call the model`,
  modelCallFailed: (call: string, detail: string, retries: number) => `${call} failed${retries > 0 ? ` after ${retries} ${retries === 1 ? 'retry' : 'retries'}` : ''}: ${detail}`,
  recordedCallUnreadable: (call: string) => `${call}: its journal entry holds no answer; the journal is damaged or from another version`,
  unknownModel: (crew: string, name: string, known: readonly string[]) =>
    `crew ${crew} asked for model "${name}", which is not configured: ${known.length === 0 ? 'no model is (add one under models: in live-config.yaml)' : `models: has ${known.join(', ')}`}`,
  noDefaultModel: (crew: string, known: readonly string[]) =>
    `crew ${crew} called ctx.model() without a name, and has no default: ${known.length === 0 ? 'no model is configured (add one under models: in live-config.yaml)' : `name one of ${known.join(', ')}, set @Crew({ model }), or configure one named "default"`}`,
  crewModelUnknown: (crew: string, name: string, known: readonly string[]) =>
    `crew ${crew}: model "${name}" is not configured (${known.length === 0 ? 'models: is empty' : `models: has ${known.join(', ')}`})`,
  crewNeedsModel: (crew: string, known: readonly string[]) =>
    `crew ${crew} asks a model on every event and has none: ${known.length === 0 ? 'no model is configured (add one under models: in live-config.yaml)' : `set its model: to one of ${known.join(', ')}, or configure one named "default"`}`,
  crewNeedsVectors: (crew: string, collection: string) =>
    `crew ${crew} searches collection ${collection} by text, but vector search is off: add vector: { backend: pglite } (or memory, pgvector, qdrant) and an embedder under embedders: to live-config.yaml`,
  crewNeedsEmbedder: (crew: string, collection: string, known: readonly string[]) =>
    `crew ${crew} searches collection ${collection} by text, and no embedder is chosen for it: ${known.length === 0 ? 'no embedder is configured (add one under embedders: in live-config.yaml, e.g. { provider: hash, dimensions: 384 })' : `set vector.embedder to one of ${known.join(', ')}, or configure one named "default"`}`,
  vectorWithoutEmbedder: (known: readonly string[]) =>
    `vector: chooses no embedder (${known.length === 0 ? 'embedders: is empty' : `embedders: has ${known.join(', ')}, none named "default", and vector.embedder is not set`}): a crew searching or inserting by text will fail; by vector it works`,
  noModelsHere: (crew: string) => `crew ${crew} called ctx.model(), but this runner was made without models (give it the run's ModelCalls)`,

  crewFileInvalid: (path: string, problems: string) => `invalid YAML crew ${path}:\n${problems}`,
  unknownTool: (tool: string, known: readonly string[]) => `unknown tool "${tool}" (known tools: ${known.join(', ')})`,
  triggersMismatch: (crew: string, declared: string, given: string) =>
    `crew ${crew}: triggers in its runtime file (${given}) differ from its handlers' @OnEvent kinds (${declared}); a crew with several handlers can only list the kinds they have`,
  runtimeFileOtherCrew: (named: string) => `crew: names crew "${named}"; a runtime file is <crew_id>.runtime.yaml and names its own crew`,
  reloadRefused: (file: string, detail: string) => `${file} changed but cannot be loaded; the running version goes on:\n${detail}`,
  reloadNeedsRestart: (file: string, keys: readonly string[]) =>
    `${file} changed ${keys.join(', ')}, which shape the crew graph and schedule: restart to apply it; the running version goes on (a reload takes a YAML crew's prompts, templates, model, outputs and patch, and the knobs timeoutMs, maxErrors, maxTokensPerSlice, maxCallsPerMinute and model)`,
  journalDecisionInvalid: (key: string, expected: string, detail: string) =>
    `the journal's decision "${key}" is not ${expected} (${detail}): the journal is damaged or from another version; the run stopped`,
  reloadNotJournaled: (file: string, detail: string) => `${file} was reloaded but its reload point could not be journaled, so a replay will not repeat it: ${detail}`,
  reloadNewCrew: (file: string) => `${file} is not one of the crews this run started with: new crews are taken at the next start`,
  effectDiverged: (what: string, recorded: string) =>
    `${what} differs from the recording, which has "${recorded}" there; the recorded result is not used (re-record the journal, or run with --replay-missing live)`,
  streamNotRecorded: (stream: string) => `stream "${stream}" has no events in JetStream (nothing on live.${stream}.events): nothing to replay`,
  streamNotFinished: (stream: string) => `stream "${stream}" has no end-of-stream marker: a replay needs a finished recording (live-crew publish --end, or wait for the stream to end)`,
  replayInputNeeded: () => 'replay: give the recorded events file, or --stream <id> for a stream in JetStream (not both)',
  replayExpectedNeeded: () => 'replay: give the recorded actions with --expected <file> (a stream from --stream brings its own)',
  replayUpdateNeedsFile: () => 'replay: --update rewrites the --expected file: give one',
  processSilent: (name: string, ms: number, beats: number) => `${name} has sent no heartbeat for ${ms} ms (more than ${beats} beats): is it running? its crews' slices wait for it`,
  runnerStreamEnded: (stream: string) => `stream ${stream} ended: its input ended and every slice is committed; this runner's crews have no more work on it`,
  processWatched: (name: string) => `${name} beats: watched from now on (silent after more than 3 beats)`,
  processBeatsAgain: (name: string, ms: number) => `${name} beats again, after ${ms} ms of silence`,
  recordingUnreadable: (path: string, detail: string) => `cannot read the recording ${path}: ${detail}`,
  recordingLineInvalid: (where: string, detail: string) => `${where}: not a JSON record: ${detail}`,
  vectorsOff: (crew: string) => `crew ${crew} called ctx.vectors(), but vector search is off: add vector: { backend: pglite } (or memory, pgvector, qdrant) to live-config.yaml`,
  collectionNameInvalid: (crew: string, name: unknown) =>
    `crew ${crew} called ctx.vectors(${showValue(name)}): a collection name is a lower-case letter, then lower-case letters, digits or _ (48 at most)`,
  vectorCallInvalid: (crew: string, call: string, detail: string) => `crew ${crew}: ${call}: ${detail}`,
  dataDirectoryHeld: (path: string, holder: { readonly pid: number; readonly host: string; readonly since: string; readonly command: string } | undefined) =>
    `vector store data directory ${path} is in use by ${holder === undefined ? 'another process' : `process ${holder.pid} on ${holder.host} (since ${holder.since}: ${holder.command})`}: one process at a time may open it (stop that one, give this one its own path, or use backend: pgvector for a server several processes share); if that process is gone, delete ${path}/live-crew.lock`,
  vectorNotFinite: (collection: string, index: number, value: number) => `collection ${collection}: vector[${index}] is ${value}, not a finite number`,
  vectorDimension: (collection: string, got: number, expected: number) => `collection ${collection} holds vectors of dimension ${expected}, not ${got}`,
  unknownEmbedder: (crew: string, name: string, known: readonly string[]) =>
    `crew ${crew} asked for embedder "${name}", which is not configured: ${known.length === 0 ? 'no embedder is (add one under embedders: in live-config.yaml, e.g. { provider: hash, dimensions: 384 })' : `embedders: has ${known.join(', ')}`}`,
  noDefaultEmbedder: (crew: string, known: readonly string[]) =>
    `crew ${crew} needs an embedder and names none: ${known.length === 0 ? 'no embedder is configured (add one under embedders: in live-config.yaml, e.g. { provider: hash, dimensions: 384 })' : `set vector.embedder to one of ${known.join(', ')}, or configure one named "default"`}`,
  embedderNotConfigured: (key: string, name: string, known: readonly string[]) =>
    `${key}: embedder "${name}" is not configured (${known.length === 0 ? 'embedders: is empty' : `embedders: has ${known.join(', ')}`})`,
  embeddingCountMismatch: (model: string, asked: number, got: number) => `embedder ${model} gave ${got} vectors for ${asked} texts`,
  collectionShapeDiffers: (collection: string, has: CollectionShape, asked: CollectionShape) =>
    `collection ${collection} exists with ${has.dimension}-dimensional vectors by ${has.metric}, not ${asked.dimension}-dimensional by ${asked.metric}: use another collection name, or drop it first`,
  vectorBackendPackage: (backend: string, packages: string, detail: string) => `vector.backend: ${backend} needs ${packages}, which cannot be loaded (npm install ${packages}): ${detail}`,
  vectorApiKeyUnset: (env: string) => `vector.api_key_env: the environment variable ${env} holding qdrant's API key is not set`,
  vectorStorePerProcess: (backend: string) =>
    `vector.backend ${backend} keeps its store in this runner's process: crews on other runners neither see its points nor it theirs (use pgvector or qdrant for a store runners share)`,
  vectorBackendUnreachable: (backend: string, where: string, detail: string) => `vector.backend: ${backend} at ${where} cannot be reached: ${detail}`,
  effectRequestChanged: (what: string) => `${what} asks something else than when it was recorded; the recorded result is not used (re-record the journal, or run with --replay-missing live)`,
  effectMissing: (what: string) => `${what} is not in the journal being replayed: the recorded run did not run it; run with --replay-missing live to run it`,
  effectFailed: (what: string, detail: string) => `${what} failed: ${detail}`,
  configInvalid: (where: string, problems: string) => `invalid configuration in ${where}:\n${problems}`,
  configFileUnreadable: (file: string, detail: string) => `cannot read config file ${file}: ${detail}`,
  configFileNotRegular: (file: string) => `cannot read config file ${file}: not a regular file (a device, a pipe or a directory); name a YAML file`,
  configFileTooLarge: (file: string, bytes: number, max: number) => `cannot read config file ${file}: it is ${bytes} bytes, over the ${max} a config file may have`,
  moreInvalidRecords: (count: number, file: string) => `and ${count} more records of ${file} that are no valid event`,
  moreRefusedPayloads: (count: number) => `and ${count} more payloads refused by the same handler`,
  handledKindAbsent: (crew: string, kind: string, file: string) => `crew ${crew} takes kind ${kind}: no event of ${file} has it`,
  awaitedKindAbsent: (crew: string, kind: string, file: string) => `crew ${crew} waits for an event of kind ${kind}: no event of ${file} has it, so its dependency is never met`,
  kindsPastBound: (kept: number, events: number, file: string) => `${file} has more than ${kept} kinds: ${events} events of the kinds past them were not checked`,
  moreKindsUnhandled: (count: number) => `and ${count} more kinds no crew takes`,
  kindUnhandled: (kind: string, file: string) => `events of ${file} have kind ${kind}, which no crew takes`,
  crewNeverRan: (crew: string, why: string) => `crew ${crew} never ran: ${why}`,
  noEventOfKinds: (kinds: readonly string[], seen: readonly string[]) =>
    `no event of kind ${kinds.join(', ')} came (the input's kinds: ${seen.slice(0, 12).join(', ')}${seen.length > 12 ? `, and ${seen.length - 12} more` : ''})`,
  crewCallsPrevented: (refused: number, unmet: number) =>
    [
      ...(refused > 0 ? [`its payload schema refused ${refused} event${refused === 1 ? '' : 's'} (invalid_event records)`] : []),
      ...(unmet > 0 ? [`its dependencies were unmet in ${unmet} slice${unmet === 1 ? '' : 's'} (dependency_unmet records)`] : []),
    ].join(', and '),
  crewNotCalled: 'events of its kinds came and no call was made: it was disabled by maxErrors in an earlier run (its stored lane), or the run stopped first',
  crewFileNameNotId: (id: string, file: string) => `crew ${id} is in ${file}: a crew file is named after its crew (${id}.crew.yaml), so rename the file or change the id`,
  unknownKey: (nearest: string | undefined, known: string | undefined) =>
    nearest !== undefined ? `unknown key (did you mean ${nearest}?)` : known !== undefined ? `unknown key (known keys: ${known})` : 'unknown key',
  unknownVariable: (nearest: string | undefined) =>
    `unknown variable, which would set nothing${nearest !== undefined ? ` (did you mean ${nearest}?)` : ''}: live-crew's variables are LIVE_CREW_<config key>, e.g. LIVE_CREW_SLICE_MS`,
  configFileNotYaml: (file: string, detail: string) => `${file} is not valid YAML: ${detail}`,
  yamlKeyForbidden: (key: string) => `key "${key}" is not allowed (it would reach an object's prototype)`,
  yamlAliasBomb: (max: number, detail: string) => `its aliases (*name) expand past ${max} copies, as a document built to exhaust memory does (${detail})`,

  crewDefinitions: (problems: readonly string[]) => `invalid crews (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  notACrew: (name: string) => `${name} is not decorated with @Crew; add @Crew({ id: '...' }) to the class`,
  duplicateCrewId: (id: string, classes: readonly string[]) => `crew id "${id}" is used by more than one class (${classes.join(', ')}); crew ids must be unique`,
  crewOptions: (className: string, problems: string) => `@Crew options of ${className}: ${problems}`,
  noHandlers: (id: string, className: string) => `crew "${id}" (${className}) has no @OnEvent handler, so nothing would ever trigger it`,
  handlerOptions: (id: string, method: string, problems: string) => `@OnEvent on ${id}.${method}: ${problems}`,
  handlerNotMethod: (id: string, method: string) => `@OnEvent on ${id}.${method}: not a method`,
  dependencyInvalid: (id: string, problems: string) => `@DependsOn of crew "${id}": ${problems}`,
  unknownCrewDependency: (id: string, target: string, known: readonly string[]) => `crew "${id}" depends on unknown crew "${target}" (known crews: ${known.join(', ') || 'none'})`,
  dependencyCycle: (cycle: readonly string[]) => `offset-0 crew dependencies form a cycle: ${cycle.join(' -> ')}; make one of them offset -1 (read the previous slice)`,
  standardDecorator: (decorator: string) =>
    `${decorator} was applied as a standard (TC39) decorator: live-crew's decorators are TypeScript's experimental ones, which carry the constructor metadata dependency injection needs. ` +
    'Set "experimentalDecorators": true and "emitDecoratorMetadata": true in tsconfig.json and compile with tsc (TypeScript 5, 6 and 7 all support both; without them tsc compiles standard decorators and reports TS1238 or TS1241)',
  missingParamTypes: (className: string, count: number) =>
    `${className} takes ${count} constructor parameter(s) but has no design:paramtypes metadata. ` +
    'Compile crews with tsc and "emitDecoratorMetadata": true (tsx and esbuild do not emit it), ' +
    "and import 'reflect-metadata' once at start.",
  unresolvableCrew: (id: string, className: string, failure: ConstructionFailure) =>
    failure.problem === 'threw'
      ? `cannot construct crew "${id}" (${className}): ${failure.path.length === 0 ? 'its constructor' : `the constructor at ${constructorPath(failure)}`} threw: ${describeThrown(failure.thrown)}. Fix that constructor; nothing has run.`
      : `cannot construct crew "${id}" (${className}): ${constructorPath(failure)}: ${constructionProblem(failure)}; nothing has run.`,
  onStartFailed: (member: string, detail: string) => `${member}: onStart() threw: ${detail}. The run did not start; what had started was stopped.`,
  onStopFailed: (member: string) => `${member}: onStop() threw (the others were still stopped)`,
  noCrewsGiven: (command: string) => `${command}: no crews: give --crews <path> (a compiled module, a .crew.yaml file or a folder of either), or name them under crews: in live-config.yaml`,
  crewModuleIsTypeScript: (module: string) =>
    `${module} is TypeScript: compile it with tsc (experimentalDecorators and emitDecoratorMetadata on) and give the .js it emits, e.g. --crews dist/crews.js. tsx and esbuild run it but emit no constructor metadata, so dependency injection would not work`,
  crewModuleUnloadable: (module: string, detail: string) => `cannot load crews module ${module}: ${detail}`,
  crewModuleExportsNothing: (module: string) => `${module} gives no crew: a module exports @Crew classes (or an array named "crews"), a folder holds such modules or <id>.crew.yaml files`,
  appAlreadyRan: () => 'this app has already run; create a new app for another run',
  journalUnreadable: (path: string, detail: string) => `cannot read the journal to replay, ${path}: ${detail}`,
  journalLineInvalid: (where: string, detail: string) => `${where}: not a journal line: ${detail}`,
  callTimedOut: (crew: string, method: string, limitMs: number) => `${crew}.${method} took longer than timeoutMs ${limitMs}; its actions and writes were discarded`,
  inputUnreadable: (name: string, detail: string) => `cannot read events from ${name}: ${detail}`,
  inputArrayInvalid: (name: string, detail: string) =>
    `${name} is read as one JSON array (a .json file, or --format json) but is not one: ${detail}; for JSON lines name it .jsonl or pass --format jsonl`,
  inputArrayTooLarge: (name: string, max: number) => `${name} is read as one JSON array, which is parsed whole, and is over ${max} bytes; write it as JSON lines (.jsonl), which stream`,
  redisFailed: (where: string, key: string, detail: string) =>
    `Redis at ${where} failed a command on key ${key}: ${detail.replace(/\.$/, '')}. Is redis-server running there? Set redis_url (LIVE_CREW_REDIS_URL).`,
  natsUnreachable: (url: string, detail: string) => `cannot connect to NATS at ${url}: ${detail}. Is nats-server running there (with -js)? Set nats_url (LIVE_CREW_NATS_URL) or --nats-url.`,
  natsNoJetStream: (url: string, detail: string) => `the NATS server at ${url} has no JetStream (${detail}): start nats-server with -js (and a store directory, -sd)`,
  jetStreamStreamMismatch: (name: string, subjects: unknown, needed: readonly string[]) =>
    `JetStream stream ${name} exists with subjects ${JSON.stringify(subjects)}; live-crew needs ${needed.join(' and ')} in it (delete or fix the stream)`,
  outputNotWritable: (what: string, key: string, path: string, detail: string) => `cannot write ${what} to ${path} (${key}): ${detail}`,
  outputFolderMissing: (folder: string) => `the folder ${folder} does not exist; create it first`,
  outputIsFolder: () => 'it is a folder; name a file in it',
  unknownAdapter: (port: string, name: string, known: readonly string[]) => `no ${port} adapter named "${name}" (available: ${known.join(', ')})`,

  emitInvalidKind: (kind: unknown) => `emit: action kind ${showValue(kind)} must match ^[a-zA-Z0-9_]{1,50}$ and not start with "__"`,
  emitInvalidTtl: (ttl: unknown) => `emit: ttlMs ${showValue(ttl)} must be an integer from 1 to 300000`,
  tooManyActions: (kind: string, max: number) =>
    `emit "${kind}": the call has already emitted ${max} actions (max_actions_per_call); a call's actions are held until it ends, so emit fewer or raise the limit`,
  emitPayloadTooLarge: (kind: string, bytes: number, max: number) => `emit "${kind}": payload is ${bytes} bytes, over the limit of ${max} (payload_max_bytes)`,
  contextValueUndefined: (key: string) => `context.set("${key}"): value is undefined; use context.delete to remove a key`,
  jsonValueRefused: (where: string, path: string, what: string, noun: string) => `${where}${path} is ${what}; ${noun} must be JSON (plain objects, arrays, strings, finite numbers, booleans, null)`,
  jsonTooDeep: (max: number) => `nested deeper than ${max} levels (payload_max_depth)`,
  contextKeyInvalid: (key: unknown, max: number) => `context key ${showValue(key)} must be a non-empty string of at most ${max} characters`,
  contextKeyForbidden: (key: string) => `context key "${key}" is not allowed (prototype keys are refused)`,
  unresolvableInterceptor: (crew: string, name: string, failure: ConstructionFailure) =>
    `crew ${crew}: interceptor ${name} cannot be constructed: ${failure.path.length === 0 ? '' : `${constructorPath(failure)}: `}${failure.problem === 'threw' ? `its constructor threw: ${describeThrown(failure.thrown)}` : constructionProblem(failure)}`,
  notAnInterceptor: (crew: string, name: string) => `crew ${crew}: interceptor ${name} has no intercept(call, next) method`,
  distributedNeedsSharedContext: () =>
    'kv_backend: memory keeps the context inside one process, and a distributed run shares it between its scheduler and runners: use kv_backend: jetstream (the default for `live-crew scheduler` and `runner`) or redis',
  decisionOfNoStreamHere: (key: string) => `decision ${key} names no stream this worker owns: it cannot be journaled for the stream's next owner`,
  schedulerNotRegistered: (name: string) => `scheduler: ${name} has no adapter loaded: import live-crew (its entry registers the nats pool worker) before creating the app`,
  contextTruncated: (bytes: number, max: number, dropped: readonly string[]) =>
    `context snapshot would be ${bytes} bytes, over context_max_bytes ${max}; this slice's writes to ${dropped.map((k) => `"${k}"`).join(', ')} were dropped`,
  callEnded: (crew: string, what: string) => `${crew}: ${what} after the handler finished was ignored; await your work inside the handler`,
  strayFault: (crew: string, method: string, detail: string) => `${crew}.${method}: work it left running failed after the call (a promise nobody awaited, a timer): ${detail}`,
  unattributedFault: (kind: 'rejection' | 'exception') =>
    kind === 'rejection'
      ? 'a promise rejected and nobody handled it, outside any handler call; the run goes on'
      : 'an exception was thrown outside any handler call (a timer, an event listener); the run goes on',
  isolateEnded: (crew: string, kind: 'worker' | 'process', how: string) =>
    `crew ${crew}'s ${kind === 'worker' ? 'worker thread' : 'child process'} ${how}; the call it was running failed and a new one starts`,
  isolateOverMemory: (usedMb: number, limitMb: number) => `held ${usedMb} MB of heap and buffers, over its memoryLimitMb of ${limitMb}`,
  isolatedCrewPrinted: (crew: string, kind: 'worker' | 'process', stream: 'stdout' | 'stderr') => `crew ${crew} (${kind} isolate) wrote to its ${stream}`,
  isolateSentGarbage: (crew: string, kind: 'worker' | 'process') =>
    `sent a message that is not live-crew's isolation protocol (crew ${crew} must not use the ${kind === 'worker' ? 'worker port' : 'IPC channel'} itself)`,
  isolatedCrewNotInModule: (crew: string, module: string) =>
    `crew ${crew} runs isolated, so it is loaded from ${module}, which does not export it: export it there (in \`crews\`, or as an @Crew class)`,
  isolatedCrewCannotStart: (crew: string, detail: string) => `crew ${crew} runs isolated and could not start there: ${detail}`,
  isolationNeedsModule: (crews: readonly string[]) =>
    `crew${crews.length === 1 ? '' : 's'} ${crews.join(', ')} run${crews.length === 1 ? 's' : ''} isolated (isolation: worker or process), which loads ${crews.length === 1 ? 'it' : 'them'} from ${crews.length === 1 ? 'its' : 'their'} compiled module in a worker or child process: give createLiveCrewApp({ crewsModule: '<path of that .js module>' }) (the CLI passes its --crews module), or set isolation: none`,
  callStopped: (crew: string, method: string) => `${crew}.${method} was ended by the app stopping (its ctx.signal aborted); its actions and writes were discarded`,
  callNeverSettled: (crew: string, method: string) =>
    `${crew}.${method} returned a promise that can never settle (nothing left in the event loop could settle it); the call failed and the stream goes on`,
  callAbandonedAtStop: (crew: string, method: string, waitedMs: number) =>
    `${crew}.${method} was still running ${waitedMs} ms after the app began to stop (stop_timeout_ms); it was abandoned, its actions and writes discarded`,
  sameFile: (first: string, second: string, path: string) => `${first} and ${second} name the same file (${path}): one would destroy the other; give each its own file`,
  templateFailed: (where: string, detail: string) =>
    `template ${where} failed: ${detail}${/undefined variable/.test(detail) ? ' (where it may be missing, give it a default: `| default: …`, or `{% if … %}` around it)' : ''}`,
  templateTagRefused: (tag: string) => `{% ${tag} %} reads another template from a file, and a crew's templates are all in its file: write it out in place`,
  templateUnitsExceeded: (max: number) =>
    `the call's templates made more than ${max.toLocaleString('en')} items and characters together (ranges, arrays, strings and what they render): refused, so no template can take the process's memory`,
  templateTimeExceeded: (ms: number) => `the call's templates took more than ${ms} ms to render together: refused, so no template can hang its crew`,
  modelUsageEstimated: (model: string, charsPerToken: number) =>
    `model ${model} reported no usable token counts (none, negative or not a number): its budgets count what its prompts and answers imply, ${charsPerToken} characters a token, for this and every such answer`,
  replayedModelCalled: (name: string) =>
    `model ${name} was asked during a replay that takes every answer from its journal (replay_missing: fail); this is a bug in live-crew: the call should have been a replay_divergence`,
  heartbeatWatchFull: (max: number, name: string) =>
    `${max} processes are watched already: ${JSON.stringify(name.slice(0, 100))} and any further are not (a process publishing beats under made-up names?)`,
  dashboardWrongHost: (host: string) => `this dashboard does not answer to the host ${JSON.stringify(host.slice(0, 100))}: open it at the address it printed (a page of another site must not read it)`,
  dashboardTooManyPages: (max: number) => `${max} dashboard pages already follow this run: close one and reload`,
  dashboardPageMissing: (folder: string) =>
    `the dashboard's page is not in ${folder}: in a checkout of live-crew, \`npm run build\` (or \`npm start\`) builds it (Vite, from ui/); a package installed from npm ships it. /api/view answers meanwhile\n`,
  natsRunListening: (url: string, crews: number) =>
    `live-crew: ${crews} crew${crews === 1 ? '' : 's'} on every stream of ${url}: events from live.<stream>.events, actions and errors to live.<stream>.actions and .errors; Ctrl-C stops`,
  dashboardListening: (url: string) => `live-crew dashboard: ${url}`,
  dashboardCannotListen: (host: string, port: number, code: string) =>
    `the dashboard cannot listen on ${host}:${port} (${code === 'EADDRINUSE' ? 'the port is in use' : code}): give another port (--port / --ui, 0 for any free one) or address`,
  mustBeRegisteredAdapter: (port: string, names: readonly string[]) =>
    `must be one of ${names.join(', ')} (the adapters registered for the ${port} port; registerAdapter('${port}', name, factory) adds one)`,
  notAContextSnapshot: (where: string, problem: string) =>
    `${where} does not hold a live-crew context snapshot: ${problem} (a process that is not live-crew wrote there; delete the key to start the stream's context afresh)`,
  laggingWritesNotOurs: (where: string) => `${where} holds lagging writes that are not live-crew's`,
  contextWriteConflicts: (streamId: string, tries: number, where: string) => `context of stream ${streamId}: ${tries} write conflicts in a row ${where}`,
  retentionTooShort: (key: string, ms: number, needed: number) =>
    `${key} ${ms} is too short for a scheduler's checkpoints: a successor needs the messages since the last one, up to (checkpoint_slices + 1) x slice_ms + lateness_ms + lease_ms ago; set it to at least ${needed} (twice that), or lower checkpoint_slices`,
  checkpointInputGone: (stream: string, position: number, firstSeq: number) =>
    `stream ${stream}: LIVE_EVENTS now starts at sequence ${firstSeq}, after the checkpoint's input (from ${position}): retention dropped messages a successor needed, and events of this stream among them are lost to the run; raise events_retention_ms`,
  notARunStateRecord: (where: string, key: string, text: string, problem: string) => `KV ${where} holds ${JSON.stringify(text.slice(0, 200))}, not a live-crew ${key} record (${problem})`,
  runStateIgnored: (refusal: string, instead: string) => `${refusal}; ${instead}`,
  storedOutOfOrder: (stream: string, subject: string, seq: number, laterSubject: string, laterSeq: number) =>
    `JetStream stream ${stream} stored the message to ${subject} at sequence ${seq}, after the one to ${laterSubject} (sequence ${laterSeq}), which was sent after it: the server refused the first for a while and took it on a retry after the later one; its readers would see them out of order, so this process stops (look for what refused it in the server's log)`,
  notLiveCrewWork: (problem: string) => `not a live-crew work message: ${problem}`,
  workItemNamesNoEvent: (crew: string, item: number, event: number, events: number) => `crews.${crew}[${item}] names event ${event}, and the message holds ${events}`,
  notLiveCrewReport: (problem: string) => `not a live-crew slice report: ${problem}`,
  wireSubjectNotOurs: (what: 'work' | 'report') =>
    what === 'work' ? 'not a live-crew work subject (live.<stream>.work.<group>)' : "not the report subject of one of this run's crews (live.<stream>.slice.<n>.<crew>.done)",
  wireIdNotOurs: (id: string, what: 'work' | 'report') =>
    `its message id ${id === '' ? '(none)' : JSON.stringify(id.slice(0, 100))} is not one a live-crew ${what === 'work' ? 'scheduler gives work' : 'runner gives a report'} on this subject`,
  decisionNotOwned: (key: string, streamId: string) =>
    `journal of stream ${streamId}: decision ${JSON.stringify(key.slice(0, 200))} is not this process's to record (decisions are owned: the scheduler's, or a crew's by the runner hosting it)`,
  decisionOnWrongSubject: (key: string, subject: string) =>
    `decision ${JSON.stringify(key.slice(0, 200))} is not one its subject's owner takes (${subject}): decisions count only from their owner's subject`,
  notADecision: (problem: string) => `not a live-crew journal entry: ${problem}`,
  wireRefusalsUnlogged: (count: number, max: number) =>
    `${count} more messages were refused on the wire in the last minute, past the ${max} logged one by one (a flood of messages that are not live-crew's)`,
  wireMessageRefused: (subject: string, seq: number, problem: string, consequence: string) => `${subject}#${seq} refused: ${problem}; ${consequence}`,
  refusedReportTaken: (crew: string, slice: number) =>
    `if it is the first report stored for crew ${crew} in slice ${slice}, it stands as that report and merges nothing (a bad_report error record says so)`,
  badReport: (crew: string, slice: number, sender: string, problem: string) =>
    `the report of crew ${crew} for slice ${slice} (sent by ${sender}) was refused: ${problem}; the slice merged none of its writes`,
  serverRefused: (what: string, detail: string) => `${what}: ${detail}`,
  scaffoldTargetNotEmpty: (dir: string) => `live-crew new: ${dir} exists and is not empty`,
  scaffoldGitSkipped: () => 'live-crew new: git init failed (is git installed?); the app has no repository',
  scaffoldInstallFailed: (dir: string, status: number | null) =>
    `live-crew new: npm install in ${dir} ${status === null ? 'could not start (is npm on PATH?)' : `failed (exit ${status})`}; the app is written: fix that, then run npm install there`,
  generateNotAName: (kind: string, name: string) =>
    `live-crew generate ${kind}: ${JSON.stringify(name)} is not a ${kind === 'crew' ? 'crew id' : `${kind} name`} (a letter, then letters, digits, _ or -, 64 at most)`,
  generateFileExists: (kind: string, path: string) => `live-crew generate ${kind}: ${path} exists already`,
  selectorNotRegex: (pattern: string, detail: string) => `--selector ${JSON.stringify(pattern)} is not a regular expression: ${detail}`,
  runnerWaitsForReports: (slice: number, missing: ReadonlyArray<readonly [crew: string, slice: number]>) =>
    `slice ${slice} cannot start here: it waits for the report of ${missing.map(([crew, of]) => `${crew} (slice ${of})`).join(', ')}; is the runner hosting ${missing.length === 1 ? 'it' : 'them'} running?`,
  runnerGroupMatchesNoCrew: (group: string, pattern: string, crews: string) => `runners.${group}.crews: ${JSON.stringify(pattern)} matches no crew (the crews are: ${crews})`,
  crewInTwoRunnerGroups: (crew: string, groups: readonly string[]) => `crew ${crew} is in runner groups ${groups.join(' and ')}: a crew belongs to one group (runners.<group>.crews)`,
  unknownRunnerGroup: (group: string, groups: readonly string[]) => `no runner group ${group} in the config's runners (${groups.length === 0 ? 'it names none' : `groups: ${groups.join(', ')}`})`,
  runnerNeedsGroupOrStream: () => 'runner needs --group <name> (serve a runner group of the config for every stream) or --stream <id> (serve one stream)',
  aclNeedsStreamOrPool: () => 'acl needs --stream <id> (the users of one stream) or --pool (the users of a pool of workers and its runner groups)',
  selectorMatchesNoCrew: (selector: string, crews: string) => `selector ${selector} matches no crew (the crews are: ${crews})`,
  aclUnhostedCrews: (crews: readonly string[]) => `no runner hosts ${crews.join(', ')}: give every crew a --runner name=selector that matches it`,
  apiKeyEnvNotSet: (key: string, env: string, provider: string) =>
    `${key}.api_key_env: the environment variable ${env} holding ${provider}'s API key is not set (set it, or name another with api_key_env)`,
  providerPackageMissing: (key: string, provider: string, pkg: string, detail: string) =>
    `${key}.provider: ${provider} needs the package ${pkg}, which cannot be loaded (npm install ${pkg}): ${detail}`,
  hashEmbedderDimensions: (dimensions: number) => `hashEmbedder: dimensions must be a positive integer, not ${dimensions}`,
  vectorStoreNotOpen: () => 'the vector store is not open',
  vectorCollectionMissing: (collection: string) => `collection ${collection} does not exist: ensureCollection first`,
  qdrantVectorsUnusable: (collection: string, vectors: string) => `collection ${collection} in qdrant has vectors live-crew cannot use (${vectors}): one unnamed vector by Cosine, Dot or Euclid`,
  notAStreamId: (streamId: string) => `--stream ${JSON.stringify(streamId)}: not a stream id (1-100 letters, digits, _ or -)`,
  natsCredsUnreadable: (path: string, detail: string) => `cannot read nats_creds file ${path}: ${detail}`,
} as const;

/** `Trader(#0 Pricing) → Pricing(#0 Odds)`: each constructor and the parameter it was resolving. */
function constructorPath(failure: ConstructionFailure): string {
  return failure.path.map((step) => `${step.className}(#${step.index} ${step.token === 'Object' ? 'typed by an interface' : step.token})`).join(' → ');
}

/** What a construction failure that is not a throw means, and how to fix it. */
function constructionProblem(failure: ConstructionFailure): string {
  switch (failure.problem) {
    case 'interface':
      return 'a parameter typed by an interface has no runtime type. To fix: give it @inject(TOKEN) and register TOKEN in providers';
    case 'not-injectable':
      return `${failure.subject} has constructor parameters but no @injectable(). To fix: mark it @injectable() (exported by live-crew), or register it in providers`;
    case 'unregistered':
      return `no provider gives ${failure.subject}. To fix: register ${failure.subject} in providers: { token, useValue | useClass | useFactory }`;
    case 'cycle':
      return `${failure.subject} needs itself through this chain, so it can never be constructed. To fix: break the cycle (one side takes the other through a method, or \`delay(() => Class)\`)`;
    case 'threw':
      return `${failure.subject} threw: ${describeThrown(failure.thrown)}`;
  }
}

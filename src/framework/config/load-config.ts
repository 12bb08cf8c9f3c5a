import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { readYamlDocument, type YamlDocument } from './yaml-document.js';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { messages, showPath, showValue } from '../messages.js';
import { CONFIG_DEFAULTS, ConfigLayerSchema, configShape, NUMERIC_KEYS, type ConfigKey, type LiveCrewConfig, type LiveCrewConfigInput } from './config-schema.js';
import { nearestName } from './nearest-name.js';

/** The file read when no other is named, if it exists in the working directory. */
export const DEFAULT_CONFIG_FILE = 'live-config.yaml';

/** The prefix of configuration env vars: `LIVE_CREW_SLICE_MS` sets `slice_ms`. */
export const ENV_PREFIX = 'LIVE_CREW_';

/**
 * Variables of live-crew's own that set no config key: a runner's selector, and the test suite's
 * switch for its servers. Variables under `LIVE_CREW_TEST_` are the test suite's too.
 */
const OTHER_VARIABLES: ReadonlySet<string> = new Set(['LIVE_CREW_SELECTOR', 'LIVE_CREW_REQUIRE_SERVERS']);
const TEST_PREFIX = 'LIVE_CREW_TEST_';

/** Where configuration comes from; each later source wins over the earlier ones. */
export interface ConfigSources {
  /**
   * A YAML file. Default: `live-config.yaml` when it exists. A named file must exist.
   * `false` reads no file.
   */
  file?: string | false;
  /** Environment variables; only `LIVE_CREW_<KEY>` for known keys are read. Default: none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Values given in code, the last word. */
  values?: LiveCrewConfigInput;
  /**
   * Defaults of the caller's own, under everything else: the `run` command logs only warnings
   * by default, since stderr carries its error records.
   */
  defaults?: LiveCrewConfigInput;
}

/**
 * Resolves the configuration: defaults (the caller's over the built-in), then the file, then env
 * vars, then values in code.
 *
 * @throws ConfigError naming the source and key path of every problem (unknown key, bad value,
 *   unreadable or non-YAML file).
 */
export function loadConfig(sources: ConfigSources = {}): LiveCrewConfig {
  const fileLayer = readFileLayer(sources.file);
  const env = sources.env ?? {};
  const envLayer = readEnvLayer(env);
  const valueLayer = checkLayer(ConfigLayerSchema, sources.values ?? {}, 'config options');
  const defaultLayer = checkLayer(ConfigLayerSchema, sources.defaults ?? {}, 'config defaults');
  const config: LiveCrewConfig = { ...CONFIG_DEFAULTS, ...defaultLayer, ...fileLayer, ...envLayer, ...valueLayer };
  checkUnknownVariables(env, config);
  return config;
}

/**
 * A `LIVE_CREW_*` variable that is no config key, no variable of live-crew's own, and no API key
 * the configuration names is a mistake (`LIVE_CREW_SLICEMS`): it would be ignored without a word.
 *
 * @throws ConfigError naming each, with the nearest known name
 */
function checkUnknownVariables(env: Readonly<Record<string, string | undefined>>, config: LiveCrewConfig): void {
  const known = new Set([...(Object.keys(configShape) as ConfigKey[]).map(envName), ...OTHER_VARIABLES, ...apiKeyVariables(config)]);
  const unknown = Object.keys(env).filter((name) => name.startsWith(ENV_PREFIX) && !name.startsWith(TEST_PREFIX) && env[name] !== undefined && !known.has(name));
  if (unknown.length === 0) return;
  // Near by what follows the prefix they all share.
  const suffixes = [...known].map((name) => name.slice(ENV_PREFIX.length));
  const nearest = (name: string) => {
    const near = nearestName(name.slice(ENV_PREFIX.length), suffixes);
    return near === undefined ? undefined : ENV_PREFIX + near;
  };
  const problems = unknown.map((name) => `  ${name}: ${messages.unknownVariable(nearest(name))}`);
  throw new ConfigError(messages.configInvalid('environment', problems.join('\n')));
}

/** The variables the configuration names as holding API keys: any name may, `LIVE_CREW_*` too. */
function apiKeyVariables(config: LiveCrewConfig): string[] {
  const specs = [...Object.values(config.models), ...Object.values(config.embedders), ...(config.vector !== null ? [config.vector] : [])];
  return specs.flatMap((spec) => ('api_key_env' in spec && typeof spec.api_key_env === 'string' ? [spec.api_key_env] : []));
}

/**
 * The file `loadConfig` reads for a `file` option: the named one, the default one when it
 * exists, or none. Files next to it (`<crew_id>.runtime.yaml`) are looked for in its folder.
 */
export function resolveConfigFile(file: string | false | undefined): string | undefined {
  if (file === false) return undefined;
  if (file !== undefined) return file;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

/**
 * Checks data against a strict schema, as one layer of configuration.
 *
 * @throws ConfigError naming `where` and each offending key (as `nameOf` spells it), with its value
 */
export function checkLayer<S extends z.ZodObject>(schema: S, data: unknown, where: string, nameOf: (key: string) => string = (key) => key, lineOf?: YamlDocument['lineOf']): z.infer<S> {
  const parsed = schema.safeParse(data, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new ConfigError(messages.configInvalid(where, describeLayerIssues(parsed.error, nameOf, schema, lineOf)));
}

function readFileLayer(file: string | false | undefined): LiveCrewConfigInput {
  const path = resolveConfigFile(file);
  if (path === undefined) return {};
  const document = readYamlDocument(path);
  return checkLayer(ConfigLayerSchema, document.data, path, undefined, document.lineOf);
}

function readEnvLayer(env: Readonly<Record<string, string | undefined>>): LiveCrewConfigInput {
  const layer: Record<string, unknown> = {};
  for (const key of Object.keys(configShape) as ConfigKey[]) {
    const raw = env[envName(key)];
    if (raw === undefined) continue;
    layer[key] = envValue(key, raw);
  }
  return checkLayer(ConfigLayerSchema, layer, 'environment', envName);
}

/** An env var's text as the value its key takes: numbers and booleans are converted when they read as such. */
function envValue(key: ConfigKey, raw: string): unknown {
  const text = raw.trim();
  if (NUMERIC_KEYS.has(key) && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (key === 'eager_dispatch' && (text === 'true' || text === 'false')) return text === 'true';
  if (key === 'isolation_allow_write' || key === 'crews') return text === '' ? [] : text.split(delimiter);
  if (key === 'runners') return parseEnvJson(text);
  return raw;
}

/** A variable holding JSON (`{"slow":{"crews":"scorer"}}`); what does not parse is checked as the text, and refused. */
function parseEnvJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function envName(key: string): string {
  return ENV_PREFIX + key.toUpperCase();
}

/** Each issue on a line: `  key.path: message (got value)`, with `(line N)` after the key when the data came from a file. */
function describeLayerIssues(error: z.ZodError, nameOf: (key: string) => string, schema: z.ZodObject, lineOf: YamlDocument['lineOf'] | undefined): string {
  const known = Object.keys(schema.shape).map(nameOf).join(', ');
  const at = (path: readonly PropertyKey[]) => {
    const line = lineOf?.(path);
    return line === undefined ? '' : ` (line ${line})`;
  };
  return error.issues
    .flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        if (issue.path.length === 0)
          return issue.keys.map((key) => {
            const near = nearestName(key, Object.keys(schema.shape));
            return `  ${nameOf(key)}${at([key])}: ${messages.unknownKey(near && nameOf(near), known)}`;
          });
        const nested = keysAt(schema, issue.path);
        return issue.keys.map(
          (key) =>
            `  ${showPath([nameOf(String(issue.path[0])), ...issue.path.slice(1), key])}${at([...issue.path, key])}: ${messages.unknownKey(nested && nearestName(key, nested), nested?.join(', '))}`,
        );
      }
      const key = showPath(issue.path.length > 0 ? [nameOf(String(issue.path[0])), ...issue.path.slice(1)] : []);
      const got = issue.input !== undefined ? ` (got ${showValue(issue.input)})` : '';
      return [`  ${key}${at(issue.path)}: ${issue.message}${got}`];
    })
    .join('\n');
}

/** The keys of the object `schema` takes at `path` (through optional, nullable and defaulted values and records), if it is one. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  let at: z.ZodType = schema;
  for (let i = 0; ; i++) {
    while (at instanceof z.ZodOptional || at instanceof z.ZodNullable || at instanceof z.ZodDefault) at = at.unwrap() as z.ZodType;
    if (at instanceof z.ZodPipe) at = at.in as z.ZodType;
    if (i === path.length) return at instanceof z.ZodObject ? Object.keys(at.shape) : undefined;
    if (at instanceof z.ZodObject) at = at.shape[String(path[i])] as z.ZodType;
    else if (at instanceof z.ZodRecord) at = at.valueType as z.ZodType;
    else return undefined;
    if (at === undefined) return undefined;
  }
}

export type { LiveCrewConfig, LiveCrewConfigInput };

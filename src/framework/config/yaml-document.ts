import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { messages } from '../messages.js';
import { describeThrown } from '../describe-thrown.js';

/** The largest config, runtime or crew YAML file read. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

/** A YAML file's data, and where in the file each part of it is. */
export interface YamlDocument {
  readonly path: string;
  /** The file's text. */
  readonly text: string;
  /** The data (an empty file is `{}`). */
  readonly data: unknown;
  /** The 1-based line of the value at `path` (`['models', 'm', 'provider']`), or of its nearest parent that is in the file. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * Reads a YAML file, keeping where each value is, so errors can name file, line and key.
 *
 * @throws ConfigError when the file cannot be read, is too large, or is not YAML, with the line
 */
export function readYamlDocument(path: string): YamlDocument {
  let text: string;
  try {
    // Only a regular file of sane size is read: `/dev/zero` or a FIFO would never end.
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigError(messages.configFileNotRegular(path));
    if (stat.size > CONFIG_FILE_MAX_BYTES) throw new ConfigError(messages.configFileTooLarge(path, stat.size, CONFIG_FILE_MAX_BYTES));
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(messages.configFileUnreadable(path, describeThrown(error)), { cause: error });
  }
  return parseYamlText(text, path);
}

/** Keys no YAML of live-crew's may hold: they reach an object's prototype. */
const FORBIDDEN_YAML_KEYS: ReadonlySet<string> = new Set(['__proto__']);
/** How many times aliases may be expanded in one document (the yaml package's own bound, stated). */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses YAML text as `readYamlDocument` does.
 *
 * @throws ConfigError naming `path` and the line, when the text is not YAML
 */
export function parseYamlText(text: string, path: string): YamlDocument {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const [error] = document.errors;
  if (error !== undefined) {
    throw new ConfigError(messages.configFileNotYaml(path, `line ${lines.linePos(error.pos[0]).line}: ${error.message}`));
  }
  // A key that reaches a prototype would make the value another kind of object than YAML says.
  visit(document, {
    Pair(_, pair) {
      if (isScalar(pair.key) && FORBIDDEN_YAML_KEYS.has(String(pair.key.value))) {
        throw new ConfigError(messages.configFileNotYaml(path, `line ${lines.linePos(pair.key.range?.[0] ?? 0).line}: ${messages.yamlKeyForbidden(String(pair.key.value))}`));
      }
    },
  });
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (expanding) {
    // The yaml package refuses aliases that expand past its bound (a "billion laughs" document).
    throw new ConfigError(messages.configFileNotYaml(path, messages.yamlAliasBomb(MAX_ALIAS_COUNT, describeThrown(expanding))), { cause: expanding });
  }
  return {
    path,
    text,
    data,
    lineOf(at) {
      for (let depth = at.length; depth >= 0; depth--) {
        const node = document.getIn(at.slice(0, depth), true) as Node | undefined;
        const offset = keyOffset(document.getIn(at.slice(0, depth - 1), true), at[depth - 1]) ?? node?.range?.[0];
        if (offset !== undefined) return lines.linePos(offset).line;
      }
      return undefined;
    },
  };
}

/** Where the key `key` of the map `parent` starts: a key's own line reads better than its value's. */
function keyOffset(parent: unknown, key: PropertyKey | undefined): number | undefined {
  if (key === undefined || !isMap(parent)) return undefined;
  const pair = parent.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === key);
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS } from '../../../src/framework/config/config-schema.js';
import { loadConfig } from '../../../src/framework/config/load-config.js';
import { ConfigError } from '../../../src/framework/errors.js';

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'live-crew-config-')), 'live-config.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('gives the defaults when nothing is set', () => {
    expect(loadConfig({ file: false })).toEqual(CONFIG_DEFAULTS);
    expect(CONFIG_DEFAULTS).toMatchObject({ slice_ms: 500, lateness_ms: 0, context_max_bytes: 4096, payload_max_bytes: 65536 });
  });

  it('layers file < env < values, each later source winning key by key', () => {
    const file = yamlFile('slice_ms: 100\nlateness_ms: 10\ninput: from-file.jsonl\n');
    const config = loadConfig({
      file,
      env: { LIVE_CREW_LATENESS_MS: '20', LIVE_CREW_INPUT: 'from-env.jsonl' },
      values: { input: 'from-code.jsonl' },
    });
    expect(config).toMatchObject({ slice_ms: 100, lateness_ms: 20, input: 'from-code.jsonl' });
  });

  it('reads every numeric key from its env var as a number', () => {
    const env = { LIVE_CREW_SLICE_MS: '250', LIVE_CREW_LEASE_MS: '1000', LIVE_CREW_PACE: '2.5', LIVE_CREW_CONTEXT_MAX_BYTES: '8192' };
    expect(loadConfig({ file: false, env })).toMatchObject({ slice_ms: 250, lease_ms: 1000, pace: 2.5, context_max_bytes: 8192 });
  });

  it('ignores LIVE_CREW_ variables that are not config keys (they belong to other tools)', () => {
    expect(loadConfig({ file: false, env: { LIVE_CREW_REQUIRE_SERVERS: '1' } })).toEqual(CONFIG_DEFAULTS);
  });

  it('reads no default file when live-config.yaml is absent from the working directory (the CLI test covers a present one)', () => {
    expect(loadConfig({})).toEqual(CONFIG_DEFAULTS);
  });

  it.each([
    ['slice_ms', 0, /slice_ms: must be > 0 \(got 0\)/],
    ['slice_ms', 1.5, /slice_ms: must be an integer \(got 1.5\)/],
    ['slice_ms', 'fast', /slice_ms: must be a number \(milliseconds\) \(got "fast"\)/],
    ['lateness_ms', -1, /lateness_ms: must be >= 0 \(got -1\)/],
    ['context_max_bytes', 0, /context_max_bytes: must be > 0/],
    ['payload_max_bytes', -5, /payload_max_bytes: must be > 0/],
    ['transport', 'kafka', /transport: must be one of file, nats \(the adapters registered for the source port; registerAdapter\('source', name, factory\) adds one\) \(got "kafka"\)/],
    ['kv_backend', 'etcd', /kv_backend: must be one of memory, redis, jetstream \(.*\) \(got "etcd"\)/],
    ['scheduler', 'cron', /scheduler: .*"memory".* \(got "cron"\)/],
    ['input', '', /input: must not be empty/],
    ['output', 42, /output: must be a string/],
    ['errors', null, /errors: must be a string/],
    // Durations past what a Node timer takes would fire after 1 ms: refused, not overflowed.
    ['lease_ms', 3_000_000_000, /lease_ms: must be at most 2147483647 ms \(about 24\.8 days, the longest timer Node accepts\)/],
    ['stop_timeout_ms', 2_147_483_648, /stop_timeout_ms: must be at most 2147483647/],
    ['heartbeat_s', 3_000_000, /heartbeat_s: must be at most 2147483/],
    ['payload_max_depth', 5000, /payload_max_depth: must be at most 1000/],
    ['input_format', 'xml', /input_format: .*"jsonl".* \(got "xml"\)/],
  ])('rejects %s = %j in a file, naming file, line and key', (key, value, message) => {
    const file = yamlFile(`# a comment\n${key}: ${JSON.stringify(value)}\n`);
    expect(() => loadConfig({ file })).toThrow(ConfigError);
    expect(() => loadConfig({ file })).toThrow(new RegExp(`invalid configuration in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(() => loadConfig({ file })).toThrow(new RegExp(message.source.replace(/^(\w+): /, '$1 \\(line 2\\): ')));
  });

  it('rejects an unknown key, listing the known ones', () => {
    const file = yamlFile('slice_ms: 100\nslice_size: 5\n');
    expect(() => loadConfig({ file })).toThrow(/slice_size \(line 2\): unknown key \(known keys: slice_ms, lateness_ms/);
  });

  it('rejects an unknown key given in code', () => {
    expect(() => loadConfig({ file: false, values: { sliceMs: 5 } as never })).toThrow(/config options:\n {2}sliceMs: unknown key/);
  });

  it('names the env var of a bad env value', () => {
    expect(() => loadConfig({ file: false, env: { LIVE_CREW_SLICE_MS: 'soon' } })).toThrow(/environment:\n {2}LIVE_CREW_SLICE_MS: must be a number .*\(got "soon"\)/);
    expect(() => loadConfig({ file: false, env: { LIVE_CREW_LATENESS_MS: '-3' } })).toThrow(/LIVE_CREW_LATENESS_MS: must be >= 0/);
  });

  it('reports every problem of a layer at once', () => {
    const file = yamlFile('slice_ms: -1\ntransport: kafka\n');
    expect(() => loadConfig({ file })).toThrow(/slice_ms \(line 1\): .*\n {2}transport \(line 2\): /s);
  });

  it('names the nearest known key of a misspelled one', () => {
    const file = yamlFile('slice_mss: 100\n');
    expect(() => loadConfig({ file })).toThrow(/slice_mss \(line 1\): unknown key \(did you mean slice_ms\?\)/);
  });

  it("refuses a LIVE_CREW_ variable that sets nothing, with the nearest known name; its own others, the tests' and named API keys pass", () => {
    expect(() => loadConfig({ env: { LIVE_CREW_SLICEMS: '100' } })).toThrow(
      /invalid configuration in environment:\n {2}LIVE_CREW_SLICEMS: unknown variable, which would set nothing \(did you mean LIVE_CREW_SLICE_MS\?\)/,
    );
    expect(() => loadConfig({ env: { LIVE_CREW_WHATEVER: 'x' } })).toThrow(/LIVE_CREW_WHATEVER: unknown variable, which would set nothing: live-crew's variables are LIVE_CREW_<config key>/);
    const file = yamlFile('models:\n  m:\n    provider: openai\n    model: gpt-4o-mini\n    api_key_env: LIVE_CREW_OPENAI_KEY\n');
    const env = { LIVE_CREW_SLICE_MS: '250', LIVE_CREW_SELECTOR: 'a|b', LIVE_CREW_REQUIRE_SERVERS: '1', LIVE_CREW_TEST_ANYTHING: 'x', LIVE_CREW_OPENAI_KEY: 'sk-x' };
    expect(loadConfig({ file, env }).slice_ms).toBe(250);
  });

  it('rejects a named file that does not exist', () => {
    expect(() => loadConfig({ file: '/nonexistent/live-config.yaml' })).toThrow(/cannot read config file \/nonexistent\/live-config.yaml: ENOENT/);
  });

  it('rejects a file that is not YAML, with the line', () => {
    const file = yamlFile('slice_ms: 100\n  bad: [unclosed\n');
    expect(() => loadConfig({ file })).toThrow(/is not valid YAML: line \d+/);
  });

  it('rejects an alias bomb and a prototype key, naming the file (and the line)', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)];
    const bomb = yamlFile(`${levels.join('\n')}\n`);
    expect(() => loadConfig({ file: bomb })).toThrow(new RegExp(`${bomb} is not valid YAML: its aliases \\(\\*name\\) expand past 100 copies`));
    const proto = yamlFile('slice_ms: 100\nmodels:\n  __proto__: { polluted: true }\n');
    expect(() => loadConfig({ file: proto })).toThrow(new RegExp(`${proto} is not valid YAML: line 3: key "__proto__" is not allowed`));
  });

  it('rejects YAML that is not a mapping', () => {
    const file = yamlFile('- slice_ms\n- 100\n');
    expect(() => loadConfig({ file })).toThrow(/\(root\) \(line 1\): .*expected object/);
  });

  it('refuses to read a config path that is not a regular file (/dev/zero would never end)', () => {
    expect(() => loadConfig({ file: '/dev/zero' })).toThrow(/cannot read config file \/dev\/zero: not a regular file/);
    expect(() => loadConfig({ file: tmpdir() })).toThrow(/not a regular file/);
  });

  it('refuses a config file over 1 MiB, before reading it', () => {
    const file = yamlFile(`# ${'x'.repeat(1024 * 1024)}\nslice_ms: 100\n`);
    expect(() => loadConfig({ file })).toThrow(/it is \d+ bytes, over the 1048576 a config file may have/);
  });

  it('treats an empty file as setting nothing', () => {
    expect(loadConfig({ file: yamlFile('') })).toEqual(CONFIG_DEFAULTS);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCommitted } from '../../src/adapters/shared/committed-snapshot.js';
import { ConfigError, LiveCrewError, StoredStateError } from '../../src/index.js';
import { hashEmbedder } from '../../src/testing.js';

const SRC = resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []));
}

describe('errors: the hierarchy, with their text in messages.ts', () => {
  it('no source throws a plain Error or an error of ours with inline text (usage errors of commander and internal TypeErrors aside)', () => {
    const inline = sources(SRC).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/throw new (?!InvalidArgumentError|TypeError)\w*Error\((`|')/.test(line) ? [`${relative(SRC, file)}:${i + 1}`] : [])),
    );
    expect(inline).toEqual([]);
  });

  it('a stored text that is not a snapshot is a StoredStateError naming where it was read', () => {
    expect(() => decodeCommitted('{"slice":"x"}', 'KV live_crew_ctx_m1')).toThrow(StoredStateError);
    expect(() => decodeCommitted('{"slice":"x"}', 'KV live_crew_ctx_m1')).toThrow('KV live_crew_ctx_m1 does not hold a live-crew context snapshot');
    expect(new StoredStateError('x')).toBeInstanceOf(LiveCrewError);
  });

  it('a hash embedder of no dimensions is a ConfigError', () => {
    expect(() => hashEmbedder({ dimensions: 0 })).toThrow(ConfigError);
    expect(() => hashEmbedder({ dimensions: 1.5 })).toThrow('hashEmbedder: dimensions must be a positive integer, not 1.5');
  });
});

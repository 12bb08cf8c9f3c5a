import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** Every folder under src/, as `src/a/b/`. */
function folders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return [`${relative(ROOT, path)}/`, ...folders(path)];
    });
}

describe("the README's Layout", () => {
  it('has one line per folder of src/, and no line for a folder that is gone', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Layout'));
    const block = section.slice(section.indexOf('```\n') + 4, section.indexOf('\n```', section.indexOf('```\n') + 4));
    const listed = block.split('\n').map((line) => line.split(/\s+/)[0]);
    expect([...listed].sort()).toEqual(folders(join(ROOT, 'src')).sort());
    expect(new Set(listed).size).toBe(listed.length);
  });
});

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the package as npm packs it', () => {
  it('builds itself on pack from a checkout without dist: code, types, source maps with their sources, the dashboard page, the LICENSE', () => {
    const checkout = mkdtempSync(join(tmpdir(), 'live-crew-checkout-'));
    for (const entry of ['src', 'ui', 'templates', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE'])
      cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: checkout, encoding: 'utf8', timeout: 170_000 });
    expect(packed.status, packed.stderr).toBe(0);
    const [{ files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ files: Array<{ path: string }> }];
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/testing.js', 'dist/cli/main.js', 'dist/ui/index.html']));
    expect(paths.some((path) => /^dist\/ui\/assets\/index-.*\.js$/.test(path))).toBe(true);
    expect(paths.some((path) => path.startsWith('src/') || path.startsWith('ui/') || path.startsWith('test/'))).toBe(false);
    const map = JSON.parse(readFileSync(join(checkout, 'dist/index.js.map'), 'utf8')) as { sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toContain('export');
  });
});

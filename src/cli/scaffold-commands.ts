import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError } from '../index.js';
import { CREW_ID_PATTERN } from '../framework/model/patterns.js';
import { messages } from '../framework/messages.js';

/** Where `templates/` is in the installed package. */
const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; devDependencies: Record<string, string> };

/** Fills `{{key}}` placeholders. */
function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Copies a template folder, filling placeholders in every file; returns the files written. */
function copyTemplate(from: string, to: string, values: Readonly<Record<string, string>>): string[] {
  const written: string[] = [];
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const target = join(to, entry);
    if (statSync(source).isDirectory()) {
      mkdirSync(target, { recursive: true });
      written.push(...copyTemplate(source, target, values));
      continue;
    }
    writeFileSync(target, fill(readFileSync(source, 'utf8'), values));
    written.push(target);
  }
  return written;
}

/** `live-crew new <dir>` and `live-crew generate crew <name>`. */
export function registerScaffoldCommands(program: Command): void {
  program
    .command('new')
    .description('scaffold a live-crew app: package.json, tsconfig, a crew and its test, live-config.yaml, sample events, README')
    .argument('<dir>', 'the folder to create (it must not exist, or be empty)')
    .option('--live-crew <spec>', 'the live-crew dependency to put in package.json (a version range, or file:<tarball>)', `^${PACKAGE.version}`)
    .action((dir: string, options: { liveCrew: string }) => {
      const target = resolve(dir);
      if (existsSync(target) && readdirSync(target).length > 0) throw new ConfigError(messages.scaffoldTargetNotEmpty(dir));
      mkdirSync(target, { recursive: true });
      const name = basename(target).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'live-crew-app';
      const versions = { typescript: PACKAGE.devDependencies['typescript']!, vitest: PACKAGE.devDependencies['vitest']! };
      const written = copyTemplate(join(TEMPLATES, 'app'), target, { name, liveCrew: options.liveCrew, ...versions });
      process.stdout.write(`${written.map((file) => `  created ${relative(process.cwd(), file)}`).join('\n')}\n\nNext: cd ${dir} && npm install && npm test && npm start\n`);
    });
  program
    .command('generate')
    .alias('g')
    .description('add to the app in this folder')
    .command('crew')
    .description('add a crew (src/<kebab-name>.ts), its test (test/<kebab-name>.test.ts), and export it from src/crews.ts')
    .argument('<name>', 'the crew id: a letter, then letters, digits, _ or - (64 at most)')
    .option('--dry-run', 'print what would be written, and write nothing')
    .action((name: string, options: { dryRun?: boolean }) => {
      if (!CREW_ID_PATTERN.test(name)) throw new ConfigError(messages.generateNotACrewId(name));
      const className = name.replace(/(^|[-_])([a-zA-Z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());
      // referee_watch, referee-watch and RefereeWatch share a file: a second one is a collision, not a duplicate export.
      const file = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
      const files = { [`src/${file}.ts`]: 'crew.ts', [`test/${file}.test.ts`]: 'crew.test.ts' };
      for (const path of Object.keys(files)) if (existsSync(path)) throw new ConfigError(messages.generateFileExists(path));
      const verb = options.dryRun ? 'would create' : 'created';
      const values = { id: name, className, file };
      for (const [path, template] of Object.entries(files)) {
        if (!options.dryRun) {
          mkdirSync(join(path, '..'), { recursive: true });
          writeFileSync(path, fill(readFileSync(join(TEMPLATES, 'crew', template), 'utf8'), values));
        }
        process.stdout.write(`  ${verb} ${path}\n`);
      }
      if (existsSync('src/crews.ts')) {
        if (!options.dryRun) appendFileSync('src/crews.ts', `export * from './${file}.js';\n`);
        process.stdout.write(`  ${options.dryRun ? 'would update' : 'updated'} src/crews.ts\n`);
      }
    });
}

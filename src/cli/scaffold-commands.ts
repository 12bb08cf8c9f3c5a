import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError } from '../index.js';
import { CREW_ID_PATTERN } from '../framework/model/patterns.js';
import { messages } from '../framework/messages.js';

/** The installed package's root, and `templates/` in it. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATES = join(PACKAGE_ROOT, 'templates');
const PACKAGE = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** npm leaves `.gitignore` out of a package, so the template keeps it as `_gitignore`. */
const RENAMED: Readonly<Record<string, string>> = { _gitignore: '.gitignore' };

/** Fills `{{key}}` placeholders. */
function fill(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Copies a template folder, filling placeholders in every file; returns the files written. */
function copyTemplate(from: string, to: string, values: Readonly<Record<string, string>>): string[] {
  const written: string[] = [];
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const target = join(to, RENAMED[entry] ?? entry);
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

/**
 * The live-crew dependency of a new app: a version range as given, a tarball or folder as a
 * `file:` spec with its absolute path (the app's folder is elsewhere). By default, this package
 * itself when it runs from a git checkout (it is not on a registry then), else its version.
 */
function liveCrewSpec(given: string | undefined): string {
  if (given === undefined) return existsSync(join(PACKAGE_ROOT, '.git')) ? `file:${resolve(PACKAGE_ROOT)}` : `^${PACKAGE.version}`;
  if (given.startsWith('file:')) return `file:${resolve(given.slice('file:'.length))}`;
  return existsSync(given) ? `file:${resolve(given)}` : given;
}

/** Runs a command in `cwd`, its output on stderr (stdout lists what `new` wrote) or nowhere; its exit code, or null when it could not start. */
function runIn(cwd: string, command: string, args: readonly string[], output: 'stderr' | 'none' = 'stderr'): number | null {
  const to = output === 'stderr' ? 2 : 'ignore';
  return spawnSync(command, args, { cwd, stdio: ['ignore', to, to] }).status;
}

interface NewOptions {
  liveCrew?: string;
  skipInstall?: boolean;
  skipGit?: boolean;
}

/** What `generate` adds, by kind: the files of `templates/<kind>/`, under src/ and test/, named after the thing. */
const GENERATED = {
  crew: 'a crew (src/<kebab-name>.ts), its test, and its export from src/crews.ts',
  service: 'an @injectable() service crews take in their constructors (src/<kebab-name>.ts), and its test',
  interceptor: 'an interceptor to run around handler calls (src/<kebab-name>.ts), and its test',
} as const;

/** `live-crew new <dir>` and `live-crew generate (g) crew|service|interceptor <name>`. */
export function registerScaffoldCommands(program: Command): void {
  program
    .command('new')
    .description('scaffold a live-crew app (package.json, tsconfig, vitest config, a crew and its test, live-config.yaml, sample events, README, .gitignore), then git init and npm install')
    .argument('<dir>', 'the folder to create (it must not exist, or be empty)')
    .option(
      '--live-crew <spec>',
      'the live-crew dependency: a version range, or a packed tarball or folder (file:<path> or the path) (default: this package, when it runs from a git checkout; else its version)',
    )
    .option('--skip-install', 'do not run npm install')
    .option('--skip-git', 'do not run git init')
    .action((dir: string, options: NewOptions) => {
      const target = resolve(dir);
      if (existsSync(target) && readdirSync(target).length > 0) throw new ConfigError(messages.scaffoldTargetNotEmpty(dir));
      mkdirSync(target, { recursive: true });
      const name =
        basename(target)
          .toLowerCase()
          .replace(/[^a-z0-9._-]+/g, '-')
          .replace(/^[._-]+/, '') || 'live-crew-app';
      const versions = {
        zod: PACKAGE.dependencies['zod']!,
        typesNode: PACKAGE.devDependencies['@types/node']!,
        typescript: PACKAGE.devDependencies['typescript']!,
        vitest: PACKAGE.devDependencies['vitest']!,
      };
      const written = copyTemplate(join(TEMPLATES, 'app'), target, { name, liveCrew: liveCrewSpec(options.liveCrew), ...versions });
      process.stdout.write(`${written.map((file) => `  created ${relative(process.cwd(), file)}`).join('\n')}\n`);
      // Inside another repository the app is part of it: a nested repository would hide it.
      if (!options.skipGit && runIn(target, 'git', ['rev-parse', '--is-inside-work-tree'], 'none') !== 0) {
        if (runIn(target, 'git', ['init', '--quiet']) === 0) process.stdout.write('  initialized a git repository\n');
        else process.stderr.write(`${messages.scaffoldGitSkipped()}\n`);
      }
      if (!options.skipInstall) {
        process.stdout.write('  running npm install\n');
        const status = runIn(target, 'npm', ['install', '--no-audit', '--no-fund']);
        if (status !== 0) throw new ConfigError(messages.scaffoldInstallFailed(dir, status));
      }
      process.stdout.write(`\nNext: cd ${dir}${options.skipInstall ? ' && npm install' : ''} && npm test && npm start\n`);
    });
  const generate = program.command('generate').alias('g').description('add to the app in this folder: a crew, a service or an interceptor, with its test');
  for (const [kind, description] of Object.entries(GENERATED)) {
    generate
      .command(kind)
      .description(`add ${description}`)
      .argument('<name>', 'its name: a letter, then letters, digits, _ or - (64 at most); the crew id, for a crew')
      .option('--dry-run', 'print what would be written, and write nothing')
      .action((name: string, options: { dryRun?: boolean }) => generateFiles(kind, name, options.dryRun === true));
  }
}

/**
 * Writes a generated thing's files from `templates/<kind>/`, and exports a crew from src/crews.ts.
 *
 * @throws ConfigError for a name that is no id, or a file that exists (another spelling of the same name included)
 */
function generateFiles(kind: string, name: string, dryRun: boolean): void {
  if (!CREW_ID_PATTERN.test(name)) throw new ConfigError(messages.generateNotAName(kind, name));
  const className = name.replace(/(^|[-_])([a-zA-Z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());
  // referee_watch, referee-watch and RefereeWatch share a file: a second one is a collision, not a duplicate export.
  const file = name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
  const files = { [`src/${file}.ts`]: `${kind}.ts`, [`test/${file}.test.ts`]: `${kind}.test.ts` };
  for (const path of Object.keys(files)) if (existsSync(path)) throw new ConfigError(messages.generateFileExists(kind, path));
  const verb = dryRun ? 'would create' : 'created';
  const values = { id: name, className, file, variable: className[0]!.toLowerCase() + className.slice(1) };
  for (const [path, source] of Object.entries(files)) {
    if (!dryRun) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, fill(readFileSync(join(TEMPLATES, kind, source), 'utf8'), values));
    }
    process.stdout.write(`  ${verb} ${path}\n`);
  }
  if (kind === 'crew' && existsSync('src/crews.ts')) {
    if (!dryRun) appendFileSync('src/crews.ts', `export * from './${file}.js';\n`);
    process.stdout.write(`  ${dryRun ? 'would update' : 'updated'} src/crews.ts\n`);
  }
}

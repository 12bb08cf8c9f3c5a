import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { messages } from '../messages.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { Logger } from '../ports/logger.js';
import type { YamlCrew } from './yaml-crew-class.js';
import { parseCrewFile, type CrewFile } from './yaml-crew-file.js';
import { CREW_FILE_SUFFIX } from './crew-file-suffix.js';
import { readRuntimeFile, RUNTIME_FILE_SUFFIX } from '../config/runtime-overrides.js';
import type { CrewDefinition } from '../discovery/crew-definition.js';
import { RELOADABLE_KNOBS, reloadableKnobsOf, type ReloadableKnobs } from '../discovery/crew-knobs.js';
import { readCrew } from '../discovery/read-crew.js';
import type { Versions } from '../runtime/versions.js';
import { knobsDecision, reloadDecision } from '../replay/decision-keys.js';
import { describeThrown } from '../describe-thrown.js';

/** What a reload's journal entry holds: the file as it was, and from which slice of each stream it runs. */
const RecordedReload = z.object({ text: z.string(), from: z.record(z.string(), z.number()) });
/** What a knobs reload's journal entry holds: the reloadable knobs, and from which slice of each stream they hold. */
const RecordedKnobs = z.object({ knobs: z.record(z.string(), z.unknown()), from: z.record(z.string(), z.number()) });

/** A crew whose reloadable knobs can change: its definition as it started, and its knobs by version. */
type KnobbedCrew = { readonly definition: CrewDefinition; readonly knobs: Versions<ReloadableKnobs> };

/** Editors write a file in several steps: a change is read once this long after the last one. */
const SETTLE_MS = 100;

/**
 * Hot reload (DESIGN §9, `run --watch`), from each stream's next slice: a changed `<id>.crew.yaml`
 * replaces what the crew does (prompts, templates, model, outputs, patch); a changed
 * `<crew>.runtime.yaml` its reloadable knobs (`timeoutMs`, `maxErrors`, `maxTokensPerSlice`,
 * `maxCallsPerMinute`, `model`). Each reload point is a journaled decision holding what was
 * loaded, so a replay of the journal runs the same versions at the same slices whether or not the
 * files changed since. A file that does not load, or that changes what shapes the graph and
 * schedule (triggers, needs, lag, stride...), is reported and the version running goes on.
 */
export class CrewReloads {
  readonly #crews: ReadonlyMap<string, YamlCrew>;
  readonly #journal: DecisionJournal;
  readonly #logger: Logger;
  readonly #watchers: FSWatcher[] = [];
  readonly #pending = new Map<string, ReturnType<typeof setTimeout>>();
  /** The number of each crew's next reload. */
  readonly #next = new Map<YamlCrew, number>();

  readonly #knobbed: ReadonlyMap<string, KnobbedCrew>;
  /** The number of each crew's next knobs reload, by crew id. */
  readonly #nextKnobs = new Map<string, number>();

  /** @param knobbed the crews whose knobs can reload, by id (`LiveCrewApp.reloadableKnobs`) */
  constructor(crews: readonly YamlCrew[], journal: DecisionJournal, logger: Logger, knobbed: ReadonlyMap<string, KnobbedCrew> = new Map()) {
    this.#crews = new Map(crews.map((crew) => [resolve(crew.file.path), crew]));
    this.#journal = journal;
    this.#logger = logger;
    this.#knobbed = knobbed;
  }

  /**
   * Installs the versions the journal holds (a replay, or a successor of the recording run), in
   * order: the version a watched run started with (version 0, so the replay does not depend on the
   * file as it is now), then each reload.
   */
  installRecorded(): void {
    for (const crew of this.#crews.values()) {
      for (let version = this.#journal.has(reloadDecision(crew.file.id, 0)) ? 0 : 1; this.#journal.has(reloadDecision(crew.file.id, version)); version++) {
        const { text, from } = RecordedReload.parse(this.#journal.value(reloadDecision(crew.file.id, version)));
        crew.behaviours.install(parseCrewFile(text, crew.file.path).behaviour, from);
        this.#next.set(crew, version + 1);
      }
    }
    for (const [id, { knobs }] of this.#knobbed) {
      for (let version = this.#journal.has(knobsDecision(id, 0)) ? 0 : 1; this.#journal.has(knobsDecision(id, version)); version++) {
        const recorded = RecordedKnobs.parse(this.#journal.value(knobsDecision(id, version)));
        knobs.install(recorded.knobs as unknown as ReloadableKnobs, recorded.from);
        this.#nextKnobs.set(id, version + 1);
      }
    }
  }

  /**
   * Watches the crews' files until `close()`, and `runtimeFolder` for `<crew>.runtime.yaml`
   * changes, which are reported: they take effect at the next start. Each crew's version now is
   * journaled first (unless it came from the journal), so a replay starts from it too.
   */
  async watch(runtimeFolder: string): Promise<void> {
    for (const crew of this.#crews.values()) {
      if (this.#next.has(crew)) continue;
      await this.#journal.record(reloadDecision(crew.file.id, 0), { text: crew.file.text, from: {} });
      this.#next.set(crew, 1);
    }
    for (const [id, { knobs }] of this.#knobbed) {
      if (this.#nextKnobs.has(id)) continue;
      await this.#journal.record(knobsDecision(id, 0), { knobs: knobs.latest, from: {} });
      this.#nextKnobs.set(id, 1);
    }
    for (const folder of new Set([...[...this.#crews.keys()].map((path) => dirname(path)), resolve(runtimeFolder)])) {
      const watcher = watch(folder, (_event, name) => {
        if (name === null) return;
        const path = resolve(folder, name);
        const knobbed = name.endsWith(RUNTIME_FILE_SUFFIX) && folder === resolve(runtimeFolder) ? this.#knobbed.get(name.slice(0, -RUNTIME_FILE_SUFFIX.length)) : undefined;
        if (knobbed !== undefined) return this.#settled(path, () => void this.#reloadKnobs(knobbed, path));
        if (!name.endsWith(CREW_FILE_SUFFIX)) return;
        const crew = this.#crews.get(path);
        if (crew === undefined) {
          this.#logger.warn({ file: path }, messages.reloadNewCrew(path));
          return;
        }
        this.#settled(path, () => void this.#reload(crew));
      });
      // Watching alone must not keep a run alive, nor hide a call that can never settle.
      watcher.unref();
      this.#watchers.push(watcher);
    }
  }

  /** A crew's runtime file changed: its reloadable knobs take the new values from each stream's next slice. */
  async #reloadKnobs({ definition, knobs }: KnobbedCrew, path: string): Promise<void> {
    const id = definition.id;
    let read: ReturnType<typeof readCrew>;
    try {
      const overrides = existsSync(path) ? readRuntimeFile(path, id) : {};
      read = readCrew(definition.type, () => overrides);
    } catch (error) {
      this.#logger.error({ crew: id, file: path }, messages.reloadRefused(path, describeThrown(error)));
      return;
    }
    if (read.crew === undefined || read.problems.length > 0) {
      this.#logger.error({ crew: id, file: path }, messages.reloadRefused(path, read.problems.join('\n')));
      return;
    }
    const reshaped = definitionChanges(definition, read.crew);
    if (reshaped.length > 0) {
      this.#logger.error({ crew: id, file: path }, messages.reloadNeedsRestart(path, reshaped));
      return;
    }
    const next = reloadableKnobsOf(read.crew);
    if (JSON.stringify(next) === JSON.stringify(knobs.latest)) return;
    const version = this.#nextKnobs.get(id) ?? 1;
    this.#nextKnobs.set(id, version + 1);
    const from = knobs.reloadPoint();
    knobs.install(next, from);
    try {
      await this.#journal.record(knobsDecision(id, version), { knobs: next, from });
    } catch (error) {
      this.#logger.error({ crew: id, file: path }, messages.reloadNotJournaled(path, describeThrown(error)));
      return;
    }
    this.#logger.info({ crew: id, file: path, from }, messages.crewFileReloaded(basename(path)));
  }

  /** Runs `then` once `path` has not changed for `SETTLE_MS`. */
  #settled(path: string, then: () => void): void {
    clearTimeout(this.#pending.get(path));
    this.#pending.set(path, setTimeout(then, SETTLE_MS).unref());
  }

  close(): void {
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }

  async #reload(crew: YamlCrew): Promise<void> {
    const path = crew.file.path;
    let file: CrewFile;
    try {
      file = parseCrewFile(readFileSync(path, 'utf8'), path);
    } catch (error) {
      this.#logger.error({ crew: crew.file.id, file: path }, messages.reloadRefused(path, describeThrown(error)));
      return;
    }
    const reshaped = scheduleChanges(crew.file, file);
    if (reshaped.length > 0) {
      this.#logger.error({ crew: crew.file.id, file: path }, messages.reloadNeedsRestart(path, reshaped));
      return;
    }
    const version = this.#next.get(crew) ?? 1;
    this.#next.set(crew, version + 1);
    const key = reloadDecision(crew.file.id, version);
    const from = crew.behaviours.reloadPoint();
    // Installed at once, before any other call can start: the point recorded is the point taken.
    crew.behaviours.install(file.behaviour, from);
    try {
      await this.#journal.record(key, { text: file.text, from });
    } catch (error) {
      this.#logger.error({ crew: crew.file.id, file: path }, messages.reloadNotJournaled(path, describeThrown(error)));
      return;
    }
    this.#logger.info({ crew: crew.file.id, file: path, from }, messages.crewFileReloaded(basename(path)));
  }
}

/** What differs between two definitions of a crew beyond its reloadable knobs: what the graph and schedule are made of. */
function definitionChanges(before: CrewDefinition, after: CrewDefinition): string[] {
  const shape = (crew: CrewDefinition): Record<string, unknown> => {
    const { type: _type, className: _name, handlers, ...rest } = crew;
    const fixed: Record<string, unknown> = { ...rest, triggers: handlers.map((handler) => handler.trigger) };
    for (const knob of RELOADABLE_KNOBS) delete fixed[knob];
    return fixed;
  };
  // The running definition has the config's isolation filled in where the crew sets none.
  return changedKeys(shape(before), shape({ ...after, isolation: after.isolation ?? before.isolation }));
}

/** What changed between two versions of a crew file that a reload cannot take: what the graph and schedule are made of. */
function scheduleChanges(before: CrewFile, after: CrewFile): string[] {
  const shape = (file: CrewFile): Record<string, unknown> => ({ id: file.id, triggers: file.triggers, needs: file.needs, ...file.knobs, model: undefined });
  return changedKeys(shape(before), shape(after));
}

/** The keys whose values differ between two records, sorted. */
function changedKeys(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key])).sort();
}

import { z } from 'zod';
import type { ErrorRecord } from '../model/error-record.js';
import type { ModelCalls } from '../model-calls/model-calls.js';
import type { ContextSnapshot } from '../model/committed-context.js';
import type { Clock } from '../ports/clock.js';
import type { ContextBackend } from '../ports/context-backend.js';
import type { DecisionJournal } from '../ports/decision-journal.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { ActionSink, EmittedAction, ErrorSink } from '../ports/sinks.js';
import { CrewRunner, type RunnerLimits } from '../runtime/crew-runner.js';
import type { CrewRuntime } from '../runtime/route-table.js';
import type { RunOutput } from '../runtime/run-output.js';
import type { CrewCall, CrewSliceDone, CrewWork, SliceBase } from '../runner-protocol.js';

/**
 * A worker publishes output at most this long after its last progress save began: past it, it
 * saves first. So the output a killed worker stored that its last save does not count was stored
 * within this of that save, and a successor looks for it there (DESIGN §5: effectively once).
 */
export const OUTPUT_AFTER_SAVE_MS = 5_000;

/** JSON has no -Infinity: "no slice yet" is stored as null. */
const sliceOrNone = z
  .number()
  .nullable()
  .transform((slice) => slice ?? Number.NEGATIVE_INFINITY);

/** Where a crew's work stands on a runner, as it is stored for a successor (KV `crew.<id>`). */
export const CrewProgressSchema = z.object({
  /** The last slice the crew reported done. */
  doneSlice: sliceOrNone,
  /** The work message holding that report's `close` item: a restart reads on from it, skipping what it reported. */
  workSeq: z.number().int().min(0),
  /** The crew's error streak and status at the end of `doneSlice`. */
  consecutiveErrors: z.number().int().min(0),
  disabled: z.boolean(),
  /** Calls of the next slice whose output is published: a re-run of the slice publishes none of it again. */
  published: z.object({ slice: z.number(), calls: z.number().int().min(0) }).optional(),
});

/** See `CrewProgressSchema`. */
export type CrewProgress = Readonly<z.output<typeof CrewProgressSchema>>;

/** A work item and where it is in the work channel. */
export interface ReceivedWork {
  readonly work: CrewWork;
  readonly seq: number;
}

/** What a `CrewWorker` needs. */
export interface CrewWorkerOptions {
  readonly crew: CrewRuntime;
  readonly streamId: string;
  readonly backend: ContextBackend;
  readonly actions: ActionSink;
  readonly errors: ErrorSink;
  readonly limits: RunnerLimits;
  readonly journal: DecisionJournal;
  readonly clock: Clock;
  /** The run's models, for `ctx.model()`. */
  readonly models?: ModelCalls;
  /** Told what the sinks accepted, and of the crew's calls' context. */
  readonly observer?: RunObserver;
  /** What an earlier runner of this crew finished; undefined for a fresh start. */
  readonly progress: CrewProgress | undefined;
  /** S(n-1) from the base a slice's first call carries: the runner's `MergedContextReplica`. */
  readonly contextBefore: (base: SliceBase) => Promise<ContextSnapshot>;
  /** Publishes the crew's report that it finished a slice. */
  readonly report: (done: CrewSliceDone) => Promise<void>;
  readonly saveProgress: (progress: CrewProgress) => Promise<void>;
}

/** The slice a worker is running, and how much of it a predecessor already published. */
interface OpenSlice {
  readonly slice: number;
  calls: number;
  /** Event positions run in this slice: a work item sent twice runs once. */
  readonly seen: Set<number>;
  /** Calls whose output a predecessor published: run again (to rebuild writes), published never. */
  readonly quietCalls: number;
}

/**
 * Runs one crew's work on one stream in a distributed run (DESIGN §5): for each slice it starts
 * from S(n-1), merged from the crews' reports as the scheduler merges it, runs the calls it is
 * sent with the in-process `CrewRunner`, publishes their actions, and on `close` reports the
 * crew's writes. Progress is saved after each batch, so a runner killed at any point is replaced
 * by one that re-runs the open slice from its start, publishing only what was not published: no
 * action lost, none twice.
 */
export class CrewWorker {
  readonly #options: CrewWorkerOptions;
  readonly #runner: CrewRunner;
  readonly #output = new WorkerOutput();
  #doneSlice: number;
  #workSeq: number;
  #published: CrewProgress['published'];
  #open: OpenSlice | undefined;
  #ended = false;
  /**
   * Progress is saved behind the work, never holding the next call up: one save at a time, and
   * what changes meanwhile goes in the next, as progress then stands (a save per batch would be
   * a KV write per event at a trickle). A successor starting from a save a few batches old
   * repeats output published milliseconds before, which the server de-duplicates by id.
   */
  #saved: Promise<void> = Promise.resolve();
  #saving = false;
  /** Progress changed while a save was under way: the save goes again when it ends. */
  #changed = false;
  /** When the last save began (the run's clock). */
  #savedAt = Number.NEGATIVE_INFINITY;
  #saveFailure: unknown;
  /** The crew's error streak and status when the open slice began: where a re-run of it starts. */
  #streakAtOpen = 0;
  #disabledAtOpen = false;
  /** A predecessor's streak and status, set on the crew's lane when the first slice begins. */
  #restore: { readonly consecutiveErrors: number; readonly disabled: boolean } | undefined;

  constructor(options: CrewWorkerOptions) {
    this.#options = options;
    const { crew, progress } = options;
    if (progress !== undefined) this.#restore = { consecutiveErrors: progress.consecutiveErrors, disabled: progress.disabled };
    this.#doneSlice = progress?.doneSlice ?? Number.NEGATIVE_INFINITY;
    this.#workSeq = progress?.workSeq ?? 0;
    this.#published = progress?.published;
    this.#runner = new CrewRunner([crew], options.backend, this.#output, options.limits, {
      journal: options.journal,
      clock: options.clock,
      ordered: true,
      ...(options.models ? { models: options.models } : {}),
    });
  }

  /** The id of the crew it runs. */
  get crewId(): string {
    return this.#options.crew.definition.id;
  }

  /**
   * The work message this crew resumes from: the one holding its last slice's close (later items
   * of its group may share it), or the first.
   */
  get resumeFrom(): number {
    return Math.max(1, this.#workSeq);
  }

  /** Resolves when every progress save so far is stored; rejects if one failed. */
  async settled(): Promise<void> {
    await this.#saved;
    if (this.#saveFailure !== undefined) throw this.#saveFailure;
  }

  /** Whether the stream ended: every slice is committed, and the crew has no more work on it. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Runs a batch of work in order, then publishes its output and saves progress. Work after the stream's end is none. */
  async handle(batch: readonly ReceivedWork[]): Promise<void> {
    if (this.#saveFailure !== undefined) throw this.#saveFailure;
    for (const { work, seq } of batch) {
      if (work.type === 'end') {
        this.#ended = true;
        break;
      }
      if (work.slice <= this.#doneSlice) continue;
      if (this.#open?.slice !== work.slice && !(await this.#begin(work))) continue;
      if (work.type === 'call') await this.#call(work);
      else await this.#close(work.slice, seq);
    }
    await this.#publish();
  }

  /**
   * Starts slice n from S(n-1): worked out from the base its first call carries, else the context
   * backend's; false when the backend shows n already merged (a slice this crew reported before).
   */
  async #begin(work: CrewWork): Promise<boolean> {
    const slice = work.slice;
    let context = work.type === 'call' && work.base !== undefined ? await this.#options.contextBefore(work.base) : undefined;
    if (context === undefined) {
      const committed = await this.#options.backend.load(this.#options.streamId);
      if (committed !== undefined && committed.slice >= slice) {
        this.#doneSlice = committed.slice;
        return false;
      }
      context = committed?.context ?? {};
    }
    const { streamId, crew } = this.#options;
    this.#runner.resetContext(streamId, context, slice);
    if (this.#restore !== undefined) this.#runner.restoreLane(streamId, crew.index, this.#restore);
    this.#restore = undefined;
    const published = this.#published?.slice === slice ? this.#published.calls : 0;
    this.#open = { slice, calls: 0, seen: new Set(), quietCalls: published };
    const status = this.#runner.laneStatus(streamId, crew.index);
    this.#streakAtOpen = status.consecutiveErrors;
    this.#disabledAtOpen = status.disabled;
    return true;
  }

  async #call(work: CrewCall): Promise<void> {
    const open = this.#open!;
    if (open.seen.has(work.position)) return;
    open.seen.add(work.position);
    open.calls++;
    this.#output.quiet = open.calls <= open.quietCalls;
    const source = work.source;
    const envelope = { event: work.event, tsMs: Date.parse(work.event.ts), origin: { name: source, locate: () => source }, position: work.position };
    const crew = [this.#options.crew.index];
    await this.#runner.dispatch(work.streamId, work.slice, envelope, crew);
    await this.#runner.settle(work.streamId, work.slice, crew);
    this.#output.quiet = false;
  }

  async #close(slice: number, seq: number): Promise<void> {
    await this.#publish();
    const { crew, streamId } = this.#options;
    // The scheduler merges context, but each runner applies its crew's vector writes, before it reports the slice done.
    await this.#options.models?.vectorCalls?.merged(streamId, slice);
    const writes = this.#runner.crewWrites(streamId, slice, crew.index);
    await this.#options.report({ type: 'done', streamId, slice, crew: crew.definition.id, writes, disabled: this.#runner.laneStatus(streamId, crew.index).disabled });
    this.#doneSlice = slice;
    this.#workSeq = seq;
    this.#published = undefined;
    this.#open = undefined;
    this.#save();
  }

  /** Publishes the output of the calls run so far; then saves how many calls of the slice are published. */
  async #publish(): Promise<void> {
    const { actions, errors } = this.#output.take();
    if (actions.length === 0 && errors.length === 0) return;
    if (this.#options.clock.now() - this.#savedAt > OUTPUT_AFTER_SAVE_MS) {
      this.#save();
      await this.settled();
    }
    if (errors.length > 0) {
      await this.#options.errors.write(errors);
      this.#options.observer?.errorsSent?.(errors);
    }
    if (actions.length > 0) {
      await this.#options.actions.write(actions);
      this.#options.observer?.actionsSent?.(actions);
    }
    const open = this.#open;
    if (open === undefined) return;
    this.#published = { slice: open.slice, calls: open.calls };
    this.#save();
  }

  /** Saves the progress as it stands once the save under way (if any) ends; a failure stops the worker at its next batch. */
  #save(): void {
    this.#changed = true;
    if (this.#saving) return;
    this.#saving = true;
    this.#saved = (async () => {
      try {
        while (this.#changed) {
          this.#changed = false;
          this.#savedAt = this.#options.clock.now();
          await this.#options.saveProgress(this.#progress());
        }
      } catch (error) {
        this.#saveFailure ??= error;
      } finally {
        this.#saving = false;
      }
    })();
  }

  #progress(): CrewProgress {
    const { crew, streamId } = this.#options;
    const status = this.#runner.laneStatus(streamId, crew.index);
    return {
      doneSlice: this.#doneSlice,
      workSeq: this.#workSeq,
      // The streak at the end of the last reported slice: a re-run of the open slice starts from it.
      consecutiveErrors: this.#open === undefined ? status.consecutiveErrors : this.#streakAtOpen,
      disabled: this.#open === undefined ? status.disabled : this.#disabledAtOpen,
      ...(this.#published !== undefined ? { published: this.#published } : {}),
    };
  }
}

/** Collects a worker's output between publishes; output of calls a predecessor published is dropped. */
class WorkerOutput implements RunOutput {
  quiet = false;
  #actions: EmittedAction[] = [];
  #errors: ErrorRecord[] = [];

  action(action: EmittedAction): void {
    if (!this.quiet) this.#actions.push(action);
  }

  error(record: ErrorRecord): void {
    if (!this.quiet) this.#errors.push(record);
  }

  take(): { actions: EmittedAction[]; errors: ErrorRecord[] } {
    const taken = { actions: this.#actions, errors: this.#errors };
    this.#actions = [];
    this.#errors = [];
    return taken;
  }
}

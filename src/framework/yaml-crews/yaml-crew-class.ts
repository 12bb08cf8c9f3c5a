import type { LanguageModelV3Prompt } from '@ai-sdk/provider';
import { Crew } from '../decorators/crew.js';
import { DependsOn } from '../decorators/depends-on.js';
import { OnEvent } from '../decorators/on-event.js';
import type { CrewClass } from '../discovery/crew-definition.js';
import type { Event } from '../model/event.js';
import type { CrewContext } from '../runtime/crew-context.js';
import { jsonOfReply, type TemplateScope } from './templates.js';
import type { CrewBehaviour, CrewFile } from './yaml-crew-file.js';

/**
 * The versions of a YAML crew's behaviour over a run: the one it started with, and each reload
 * (DESIGN §9), in force per stream from the slice after the last one the crew had a call in when
 * it was reloaded (a stream it had not seen yet gets it throughout). That point is the reload's
 * journaled decision: a replay installs the same versions at the same slices.
 */
export class CrewBehaviours {
  readonly #versions: Array<{ readonly behaviour: CrewBehaviour; readonly from: ReadonlyMap<string, number> }>;
  /** The highest slice the crew has had a call in, per stream. */
  readonly #seen = new Map<string, number>();

  constructor(initial: CrewBehaviour) {
    this.#versions = [{ behaviour: initial, from: new Map() }];
  }

  /** The behaviour in force for a call of `slice` on `streamId`; notes the call. */
  forCall(streamId: string, slice: number): CrewBehaviour {
    if (slice > (this.#seen.get(streamId) ?? Number.NEGATIVE_INFINITY)) this.#seen.set(streamId, slice);
    for (let index = this.#versions.length - 1; index > 0; index--) {
      const { behaviour, from } = this.#versions[index]!;
      if (slice >= (from.get(streamId) ?? Number.NEGATIVE_INFINITY)) return behaviour;
    }
    return this.#versions[0]!.behaviour;
  }

  /** Where a reload now would start, per stream: what its journal entry records. */
  reloadPoint(): Record<string, number> {
    return Object.fromEntries([...this.#seen].map(([stream, slice]) => [stream, slice + 1]));
  }

  /** Installs a version from `from` (a reload now, or one the journal recorded). */
  install(behaviour: CrewBehaviour, from: Readonly<Record<string, number>>): void {
    this.#versions.push({ behaviour, from: new Map(Object.entries(from)) });
  }
}

/** The crew class of a YAML crew file, and the versions of its behaviour a reload adds to. */
export interface YamlCrew {
  readonly type: CrewClass;
  readonly file: CrewFile;
  readonly behaviours: CrewBehaviours;
}

/**
 * Makes a YAML crew an ordinary crew (DESIGN §9): a class with the same decorators a TypeScript
 * crew has, so the graph, `validate`, `graph`, lanes, lag, budgets and distributed runners treat
 * both alike. Each call renders `user_template` (and `system_prompt`) over the call's view, asks
 * the model, then emits `outputs` and writes `patch`, rendered with the answer as `outputs`.
 */
export function yamlCrewClass(file: CrewFile): YamlCrew {
  const behaviours = new CrewBehaviours(file.behaviour);
  const type = class {
    async handle(event: Event, ctx: CrewContext): Promise<void> {
      await runBehaviour(behaviours.forCall(ctx.streamId, ctx.slice), event, ctx);
    }
  };
  Object.defineProperty(type, 'name', { value: file.path.split(/[\\/]/).pop() });
  const handle = Object.getOwnPropertyDescriptor(type.prototype, 'handle')!;
  OnEvent(file.triggers === '*' ? '*' : file.triggers)(type.prototype, 'handle', handle);
  if (file.needs.length > 0) DependsOn(...file.needs.map((need) => (need.type === 'crew' ? { crew: need.crew, offset: need.offset } : { event: need.event, offset: need.offset })))(type);
  Crew({ id: file.id, ...file.knobs })(type);
  return { type, file, behaviours };
}

async function runBehaviour(behaviour: CrewBehaviour, event: Event, ctx: CrewContext): Promise<void> {
  const scope: { -readonly [K in keyof TemplateScope]: TemplateScope[K] } = { ctx: ctx.context.snapshot(), event, slice: ctx.slice, stream_id: ctx.streamId, outputs: {} };
  if (behaviour.userTemplate !== undefined) {
    const prompt: LanguageModelV3Prompt = [];
    if (behaviour.systemPrompt !== undefined) prompt.push({ role: 'system', content: await behaviour.systemPrompt(scope) });
    prompt.push({ role: 'user', content: [{ type: 'text', text: await behaviour.userTemplate(scope) }] });
    const answer = await ctx.model(behaviour.model).doGenerate({ prompt, abortSignal: ctx.signal });
    const text = answer.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
    scope.outputs = { text, json: jsonOfReply(text) };
  }
  for (const output of behaviour.outputs) ctx.emit(output.kind, await output.payload(scope), output.ttlMs === undefined ? undefined : { ttlMs: output.ttlMs });
  for (const [key, value] of behaviour.patch) {
    const written = await value(scope);
    // A template naming nothing writes nothing; null removes the key.
    if (written === null) ctx.context.delete(key);
    else if (written !== undefined) ctx.context.set(key, written);
  }
}

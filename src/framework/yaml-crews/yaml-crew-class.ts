import type { LanguageModelV3Prompt } from '@ai-sdk/provider';
import { Crew } from '../decorators/crew.js';
import { DependsOn } from '../decorators/depends-on.js';
import { OnEvent } from '../decorators/on-event.js';
import type { CrewClass } from '../discovery/crew-definition.js';
import type { Event } from '../model/event.js';
import type { CrewContext } from '../runtime/crew-context.js';
import { Versions } from '../runtime/versions.js';
import { jsonOfReply, type TemplateScope } from './templates.js';
import type { CrewBehaviour, CrewFile } from './yaml-crew-file.js';

/** The crew class of a YAML crew file, and the versions of its behaviour a reload adds to. */
export interface YamlCrew {
  readonly type: CrewClass;
  readonly file: CrewFile;
  /** What it does, by version: a reload adds one. */
  readonly behaviours: Versions<CrewBehaviour>;
}

/**
 * Makes a YAML crew an ordinary crew (DESIGN §9): a class with the same decorators a TypeScript
 * crew has, so the graph, `validate`, `graph`, lanes, lag, budgets and distributed runners treat
 * both alike. Each call renders `user_template` (and `system_prompt`) over the call's view, asks
 * the model, then emits `outputs` and writes `patch`, rendered with the answer as `outputs`.
 */
export function yamlCrewClass(file: CrewFile): YamlCrew {
  const behaviours = new Versions(file.behaviour);
  const type = class {
    async handle(event: Event, ctx: CrewContext): Promise<void> {
      await runBehaviour(behaviours.forCall(ctx.streamId, ctx.slice), file.behaviour.model, event, ctx);
    }
  };
  Object.defineProperty(type, 'name', { value: file.path.split(/[\\/]/).pop() });
  const handle = Object.getOwnPropertyDescriptor(type.prototype, 'handle')!;
  OnEvent(file.triggers === '*' ? '*' : file.triggers)(type.prototype, 'handle', handle);
  if (file.needs.length > 0) DependsOn(...file.needs.map((need) => (need.type === 'crew' ? { crew: need.crew, offset: need.offset } : { event: need.event, offset: need.offset })))(type);
  Crew({ id: file.id, ...file.knobs })(type);
  return { type, file, behaviours };
}

async function runBehaviour(behaviour: CrewBehaviour, startModel: string | undefined, event: Event, ctx: CrewContext): Promise<void> {
  const scope: { -readonly [K in keyof TemplateScope]: TemplateScope[K] } = { ctx: ctx.context.snapshot(), event, slice: ctx.slice, stream_id: ctx.streamId, outputs: {} };
  if (behaviour.userTemplate !== undefined) {
    const prompt: LanguageModelV3Prompt = [];
    if (behaviour.systemPrompt !== undefined) prompt.push({ role: 'system', content: await behaviour.systemPrompt(scope) });
    prompt.push({ role: 'user', content: [{ type: 'text', text: await behaviour.userTemplate(scope) }] });
    // The crew's `model` knob (the file's, or its runtime file's) unless a reload of the file changed it.
    const answer = await ctx.model(behaviour.model === startModel ? undefined : behaviour.model).doGenerate({ prompt, abortSignal: ctx.signal });
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

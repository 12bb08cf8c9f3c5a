import type {
  JSONSchema7,
  JSONValue,
  LanguageModelV3,
  LanguageModelV3FunctionTool,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3ToolResultOutput,
  LanguageModelV3ToolResultPart,
} from '@ai-sdk/provider';
import { z } from 'zod';
import { describeIssues } from '../model/event.js';
import { describeThrown } from '../describe-thrown.js';
import { DEFAULT_TOOL_COLLECTION, vectorTools, type CrewTool, type VectorToolName } from '../vectors/vector-tools.js';
import { declareCrewNeeds } from '../model-calls/crew-needs.js';
import { Crew } from '../decorators/crew.js';
import { DependsOn } from '../decorators/depends-on.js';
import { OnEvent } from '../decorators/on-event.js';
import type { CrewClass } from '../discovery/crew-definition.js';
import type { Event } from '../model/event.js';
import type { CrewContext } from '../ports/crew-context.js';
import { Versions } from '../runtime/versions.js';
import { jsonOfReply, TemplateRendering, type TemplateScope } from './templates.js';
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
  declareCrewNeeds(type, {
    model: file.behaviour.userTemplate !== undefined,
    textCollections: [...new Set(file.behaviour.tools.map((tool) => tool.options.collection ?? DEFAULT_TOOL_COLLECTION))],
  });
  return { type, file, behaviours };
}

/** The most model calls one event's tool loop makes: the model may call tools this many times less one, then must answer. */
const MAX_TOOL_STEPS = 5;

/**
 * Asks the model, offering the crew's tools; while it calls tools (and steps remain), runs them
 * and asks again with their results, as the AI SDK's `generateText` with `stopWhen` does. A tool
 * that fails, or a call it cannot parse, goes back to the model as an error it may recover from.
 */
async function askWithTools(model: LanguageModelV3, prompt: LanguageModelV3Prompt, offered: CrewBehaviour['tools'], ctx: CrewContext): Promise<LanguageModelV3GenerateResult> {
  const tools = new Map(offered.map(({ name, options }) => [name, vectorTools(ctx, options)[name] as CrewTool<unknown, unknown>]));
  const functions: LanguageModelV3FunctionTool[] = [...tools].map(([name, tool]) => ({
    type: 'function',
    name,
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.inputSchema) as JSONSchema7,
  }));
  for (let step = 1; ; step++) {
    const answer = await model.doGenerate({ prompt, abortSignal: ctx.signal, ...(functions.length > 0 ? { tools: functions } : {}) });
    const calls = answer.content.filter((part) => part.type === 'tool-call');
    if (calls.length === 0 || step === MAX_TOOL_STEPS) return answer;
    prompt.push({ role: 'assistant', content: calls.map(({ toolCallId, toolName, input }) => ({ type: 'tool-call', toolCallId, toolName, input: parsedOrText(input) })) });
    const results: LanguageModelV3ToolResultPart[] = [];
    for (const { toolCallId, toolName, input } of calls) results.push({ type: 'tool-result', toolCallId, toolName, output: await runTool(tools.get(toolName as VectorToolName), toolName, input) });
    prompt.push({ role: 'tool', content: results });
  }
}

async function runTool(tool: CrewTool<unknown, unknown> | undefined, name: string, input: string): Promise<LanguageModelV3ToolResultOutput> {
  if (tool === undefined) return { type: 'error-text', value: `there is no tool "${name}"` };
  const parsed = tool.inputSchema.safeParse(parsedOrText(input));
  if (!parsed.success) return { type: 'error-text', value: `invalid input for ${name}: ${describeIssues(parsed.error)}` };
  try {
    return { type: 'json', value: (await tool.execute(parsed.data)) as JSONValue };
  } catch (error) {
    return { type: 'error-text', value: `${name} failed: ${describeThrown(error)}` };
  }
}

/** A tool call's input as the model wrote it: JSON, or the text when it is not. */
function parsedOrText(input: string): unknown {
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

async function runBehaviour(behaviour: CrewBehaviour, startModel: string | undefined, event: Event, ctx: CrewContext): Promise<void> {
  const scope: { -readonly [K in keyof TemplateScope]: TemplateScope[K] } = { ctx: ctx.context.snapshot(), event, slice: ctx.slice, stream_id: ctx.streamId, outputs: {} };
  // Every template of the call draws on the call's bounds.
  const templates = new TemplateRendering(scope);
  if (behaviour.userTemplate !== undefined) {
    const prompt: LanguageModelV3Prompt = [];
    if (behaviour.systemPrompt !== undefined) prompt.push({ role: 'system', content: await templates.render(behaviour.systemPrompt) });
    prompt.push({ role: 'user', content: [{ type: 'text', text: await templates.render(behaviour.userTemplate) }] });
    // The crew's `model` knob (the file's, or its runtime file's) unless a reload of the file changed it.
    const model = ctx.model(behaviour.model === startModel ? undefined : behaviour.model);
    const answer = await askWithTools(model, prompt, behaviour.tools, ctx);
    const text = answer.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
    scope.outputs = { text, json: jsonOfReply(text) };
  }
  for (const output of behaviour.outputs) ctx.emit(output.kind, await templates.render(output.payload), output.ttlMs === undefined ? undefined : { ttlMs: output.ttlMs });
  for (const [key, value] of behaviour.patch) {
    const written = await templates.render(value);
    // A template naming nothing writes nothing; null removes the key.
    if (written === null) ctx.context.delete(key);
    else if (written !== undefined) ctx.context.set(key, written);
  }
}

import { basename } from 'node:path';
import { z } from 'zod';
import { NeedsSchema, snakeKnobsShape, TriggersSchema } from '../discovery/crew-spec-keys.js';
import type { Dependency } from '../model/dependency.js';
import { CrewIdSchema } from '../model/dependency.js';
import { KindSchema, describeIssues } from '../model/event.js';
import { ConfigError } from '../errors.js';
import { messages } from '../messages.js';
import { nearestName } from '../config/nearest-name.js';
import { parseYamlText, readYamlDocument, type YamlDocument } from '../config/yaml-document.js';
import { compileText, compileValue, TemplateError, type CompiledText, type CompiledValue } from './templates.js';
import type { CrewKnobs } from '../discovery/crew-knobs.js';
import { knobsOf } from '../discovery/crew-spec-keys.js';
import { COLLECTION_NAME_PATTERN } from '../config/vector-config.js';
import { VECTOR_TOOL_NAMES, type VectorToolName, type VectorToolOptions } from '../vectors/vector-tools.js';
import { CREW_FILE_SUFFIX } from './crew-file-suffix.js';
import { describeThrown } from '../describe-thrown.js';

/** The tools a YAML crew may name: the built-in vector tools (DESIGN §10). */
export const KNOWN_TOOLS: readonly string[] = VECTOR_TOOL_NAMES;

const ToolNameSchema = z.enum(VECTOR_TOOL_NAMES, { error: (issue) => messages.unknownTool(String(issue.input), KNOWN_TOOLS) });

/** A tool, by name (on the `facts` collection), or with the collection it works on and its most documents. */
const ToolSchema = z.union(
  [
    ToolNameSchema,
    z.strictObject({
      name: ToolNameSchema,
      collection: z
        .string({ error: 'must be a collection name' })
        .regex(COLLECTION_NAME_PATTERN, { error: 'a collection name is a lower-case letter, then lower-case letters, digits or _ (48 at most)' })
        .optional(),
      top_k: z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(1, { error: 'must be 1..50' }).max(50, { error: 'must be 1..50' }).optional(),
    }),
  ],
  { error: (issue) => (typeof issue.input === 'string' ? messages.unknownTool(issue.input, KNOWN_TOOLS) : 'must be a tool name, or { name, collection?, top_k? }') },
);

const OutputSchema = z.strictObject({
  /** The action's kind. */
  kind: KindSchema,
  /** Its payload: JSON, with templates in its strings. */
  payload: z.unknown().optional(),
  /** How long the action stays relevant, in ms (default 5000). */
  ttl_ms: z.number({ error: 'must be a number of ms' }).int({ error: 'must be an integer' }).min(1, { error: 'must be 1..300000' }).max(300_000, { error: 'must be 1..300000' }).optional(),
});

const { isolation: _isolation, memory_limit_mb: _memory, ...knobs } = snakeKnobsShape;

/** `<id>.crew.yaml` (DESIGN §9): the spec's snake_case keys. */
export const CrewFileSchema = z
  .strictObject({
    id: CrewIdSchema,
    triggers: TriggersSchema,
    needs: NeedsSchema.optional(),
    ...z.object(knobs).partial().shape,
    system_prompt: z.string({ error: 'must be text (a LiquidJS template)' }).optional(),
    user_template: z.string({ error: 'must be text (a LiquidJS template)' }).optional(),
    outputs: z.array(OutputSchema, { error: 'must be a list of { kind, payload?, ttl_ms? }' }).optional(),
    patch: z.record(z.string(), z.unknown(), { error: 'must map context keys to values (templates in strings; null deletes the key)' }).optional(),
    tools: z
      .array(ToolSchema, { error: 'must be a list of tools' })
      .superRefine((tools, context) => {
        const seen = new Set<string>();
        tools.forEach((tool, index) => {
          const name = typeof tool === 'string' ? tool : tool.name;
          if (seen.has(name)) context.addIssue({ code: 'custom', path: [index], message: `lists ${name} twice` });
          seen.add(name);
        });
      })
      .optional(),
  })
  .superRefine((file, context) => {
    if (file.system_prompt !== undefined && file.user_template === undefined) {
      context.addIssue({ code: 'custom', path: ['system_prompt'], message: 'needs a user_template: the model is called with both' });
    }
    if (file.tools !== undefined && file.user_template === undefined) {
      context.addIssue({ code: 'custom', path: ['tools'], message: 'needs a user_template: tools are offered to the model' });
    }
    if (file.outputs === undefined && file.patch === undefined) {
      context.addIssue({ code: 'custom', path: [], message: 'does nothing: give outputs (actions to emit) or patch (context to write), or both' });
    }
  });

/** What a YAML crew does on each event, compiled: the part a reload may replace. */
export interface CrewBehaviour {
  /** The model it calls (its name in `models:`); undefined: the crew's default. */
  readonly model: string | undefined;
  readonly systemPrompt: CompiledText | undefined;
  /** Undefined for a crew that calls no model. */
  readonly userTemplate: CompiledText | undefined;
  readonly outputs: ReadonlyArray<{ readonly kind: string; readonly payload: CompiledValue; readonly ttlMs: number | undefined }>;
  readonly patch: ReadonlyArray<readonly [string, CompiledValue]>;
  /** The tools offered to the model, with their options. */
  readonly tools: ReadonlyArray<{ readonly name: VectorToolName; readonly options: VectorToolOptions }>;
}

/** The keys a crew file may hold. */
const KNOWN_KEYS = Object.keys(CrewFileSchema.shape);

/** A YAML crew file, checked and compiled. */
export interface CrewFile {
  readonly path: string;
  readonly id: string;
  readonly triggers: '*' | readonly string[];
  readonly needs: readonly Dependency[];
  readonly knobs: CrewKnobs;
  readonly behaviour: CrewBehaviour;
  /** The file's text: what a reload journals, so a replay runs the same version. */
  readonly text: string;
}

/**
 * Reads and compiles a YAML crew file.
 *
 * @throws ConfigError naming the file, and the line and key of every problem (bad key or value, a template that does not parse)
 */
export function readCrewFile(path: string): CrewFile {
  return compileCrewFile(readYamlDocument(path));
}

/** Compiles a YAML crew from its text (a reload, or a version replayed from the journal). */
export function parseCrewFile(text: string, path: string): CrewFile {
  return compileCrewFile(parseYamlText(text, path));
}

function compileCrewFile(document: YamlDocument): CrewFile {
  const { path } = document;
  const where = (at: readonly PropertyKey[]) => `${path}:${document.lineOf(at) ?? 1}`;
  const parsed = CrewFileSchema.safeParse(document.data, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => `  ${where([...issue.path, key])} ${key}: ${messages.unknownKey(nearestName(key, KNOWN_KEYS), KNOWN_KEYS.join(', '))}`)
        : [`  ${where(issue.path)} ${describeIssues(new z.ZodError([issue]))}`],
    );
    throw new ConfigError(messages.crewFileInvalid(path, problems.join('\n')));
  }
  const file = parsed.data;
  // The file names its crew: `<id>.crew.yaml`, so what a folder holds is plain from its listing.
  if (basename(path) !== `${file.id}${CREW_FILE_SUFFIX}`) throw new ConfigError(messages.crewFileInvalid(path, `  ${where(['id'])} id: ${messages.crewFileNameNotId(file.id, basename(path))}`));
  const compile = <T>(at: readonly PropertyKey[], make: () => T): T => {
    try {
      return make();
    } catch (error) {
      // A value's templates are compiled with their full path, so an error names where it is.
      const full = error instanceof TemplateError ? error.path : at;
      throw new ConfigError(messages.crewFileInvalid(path, `  ${where(full)} ${full.join('.')}: template does not parse: ${describeThrown(error)}`));
    }
  };
  const behaviour: CrewBehaviour = {
    model: file.model,
    systemPrompt: file.system_prompt === undefined ? undefined : compile(['system_prompt'], () => compileText(file.system_prompt!, ['system_prompt'])),
    userTemplate: file.user_template === undefined ? undefined : compile(['user_template'], () => compileText(file.user_template!, ['user_template'])),
    outputs: (file.outputs ?? []).map((output, index) => ({
      kind: output.kind,
      payload: compile(['outputs', index, 'payload'], () => compileValue(output.payload ?? {}, ['outputs', index, 'payload'])),
      ttlMs: output.ttl_ms,
    })),
    patch: Object.entries(file.patch ?? {}).map(([key, value]) => [key, compile(['patch', key], () => compileValue(value, ['patch', key]))] as const),
    tools: (file.tools ?? []).map((tool) =>
      typeof tool === 'string'
        ? { name: tool, options: {} }
        : { name: tool.name, options: { ...(tool.collection !== undefined ? { collection: tool.collection } : {}), ...(tool.top_k !== undefined ? { topK: tool.top_k } : {}) } },
    ),
  };
  return { path, id: file.id, triggers: file.triggers, needs: file.needs ?? [], knobs: knobsOf(file), behaviour, text: document.text };
}

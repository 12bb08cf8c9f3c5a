import { Context, Liquid, toValue, type Template } from 'liquidjs';
import { messages } from '../messages.js';
import { describeThrown } from '../describe-thrown.js';

/**
 * The most time, in ms, a crew call's templates may take to render, all of them together (the
 * prompts before the model call, the outputs and patch after it).
 */
export const CALL_RENDER_MS = 1_000;
/**
 * The most items and characters a crew call's templates may make, all of them together: what
 * LiquidJS counts as it makes ranges, arrays and strings, and the text they render.
 */
export const CALL_RENDER_UNITS = 1_000_000;

/** Tags that read other templates from files: a crew's templates are all in its file. */
const FILE_TAGS = ['include', 'render', 'layout'] as const;

/**
 * The template engine of YAML crews: LiquidJS, which runs no code. Tags that read files are
 * refused at load (`include`, `render`, `layout`), unknown filters are errors at load, a variable
 * naming nothing is an error when rendered (unless an `if` or a `default` looks at it), a template
 * reads only its values' own properties, and every template of a crew call draws on one bound of
 * time and one of memory and output (`TemplateRendering`), so no template, nor many small ones
 * together, can reach outside what it is given or hang a crew.
 */
const liquid = new Liquid({
  templates: {},
  strictFilters: true,
  // A variable naming nothing (a typo, a field the event lacks) fails the call, naming it; an
  // `if` and a `default` filter may look at one that is missing, which is what they are for.
  strictVariables: true,
  lenientIf: true,
  ownPropertyOnly: true,
  parseLimit: 100_000,
});
for (const name of FILE_TAGS) {
  liquid.registerTag(name, {
    parse() {
      throw new Error(messages.templateTagRefused(name));
    },
    // Never reached: parsing refuses the tag.
    render: () => undefined,
  });
}

/** What a template sees (DESIGN §9). */
export interface TemplateScope {
  /** The stream's context as the call sees it. */
  readonly ctx: Readonly<Record<string, unknown>>;
  readonly event: unknown;
  readonly slice: number;
  readonly stream_id: string;
  /** The model's answer: `text`, and `json` when the text is JSON. Empty before the model is called, and for a crew without one. */
  readonly outputs: { readonly text?: string; readonly json?: unknown };
}

/** A compiled template, rendered in a call's `Context` (which carries its scope and bounds). */
export type CompiledText = (context: Context) => Promise<string>;

/**
 * A value with templates in it, checked at load: a string is rendered as text, except one that
 * is a single `{{ expression }}`, which gives the expression's value as is (a number, an object);
 * arrays and objects are rendered leaf by leaf (an expression naming nothing is left out of an
 * object, null in a list); anything else is itself.
 */
export type CompiledValue = (context: Context) => Promise<unknown>;

const SINGLE_EXPRESSION = /^\{\{-?\s*([^{}]*?)\s*-?\}\}$/;

/** A bound LiquidJS checks as it renders (its own `Limiter`'s shape): `use` adds, `check` compares. */
class CallBound {
  #used = 0;

  constructor(
    readonly limit: number,
    readonly exceeded: string,
  ) {}

  use(count: number): void {
    if (!(+count > 0)) return;
    this.#used += +count;
    if (this.#used > this.limit) throw new Error(this.exceeded);
  }

  check(count: number): void {
    if (+count > this.limit) throw new Error(this.exceeded);
  }
}

/**
 * The rendering of one crew call: its scope, and the bounds all its templates draw on. Time is
 * counted while templates render, not while the call waits for its model.
 */
export class TemplateRendering {
  readonly #scope: TemplateScope;
  readonly #units = new CallBound(CALL_RENDER_UNITS, messages.templateUnitsExceeded(CALL_RENDER_UNITS));
  #spentMs = 0;

  constructor(scope: TemplateScope) {
    this.#scope = scope;
  }

  /** Renders a compiled template or value over the call's scope, within what the call has left. */
  async render<T>(compiled: (context: Context) => Promise<T>): Promise<T> {
    const started = performance.now();
    // LiquidJS checks the time (`check(now)`) before each node it renders.
    const clock = new CallBound(started + CALL_RENDER_MS - this.#spentMs, messages.templateTimeExceeded(CALL_RENDER_MS));
    // A bound of LiquidJS's shape: its own Limiter class is not exported.
    const bounds = { memoryLimit: this.#units, renderLimit: clock, liquid } as unknown as ConstructorParameters<typeof Context>[3];
    const context = new Context(this.#scope, liquid.options, {}, bounds);
    try {
      return await compiled(context);
    } finally {
      this.#spentMs += performance.now() - started;
    }
  }
}

/**
 * Compiles a template string; what it renders counts against its call's bound of output.
 *
 * @throws Error with LiquidJS's message (its line and column) for a template that does not parse
 */
export function compileText(text: string, path: readonly PropertyKey[] = []): CompiledText {
  const template: Template[] = liquid.parse(text);
  return async (context) => {
    const rendered = String(await named(path, liquid.render(template, context)));
    context.memoryLimit.use(rendered.length);
    return rendered;
  };
}

/** A template's rendering, a failure of it naming where in the crew file the template is. */
async function named<T>(path: readonly PropertyKey[], rendering: Promise<T>): Promise<T> {
  try {
    return await rendering;
  } catch (error) {
    throw new Error(messages.templateFailed(path.join('.'), describeThrown(error)), { cause: error });
  }
}

/**
 * Compiles a value holding templates; `path` receives the path of a string that does not parse.
 *
 * @throws TemplateError naming where in the value the bad template is
 */
export function compileValue(value: unknown, path: readonly PropertyKey[] = []): CompiledValue {
  if (typeof value === 'string') {
    const expression = SINGLE_EXPRESSION.exec(value)?.[1];
    try {
      if (expression !== undefined) {
        liquid.parse(value);
        return async (context) => {
          // A literal such as `nil` comes as LiquidJS's own object: its value is what is kept.
          const evaluated: unknown = toValue(await named(path, liquid.evalValue(expression, context)));
          if (typeof evaluated === 'string') context.memoryLimit.use(evaluated.length);
          return evaluated;
        };
      }
      return compileText(value, path);
    } catch (error) {
      throw new TemplateError(path, describeThrown(error));
    }
  }
  if (Array.isArray(value)) {
    const items = value.map((item, index) => compileValue(item, [...path, index]));
    // What names nothing is left out, as JSON leaves it out: a null in a list, no field in an object.
    return async (context) => {
      const out: unknown[] = [];
      for (const item of items) out.push((await item(context)) ?? null);
      return out;
    };
  }
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([key, field]) => [key, compileValue(field, [...path, key])] as const);
    return async (context) => {
      const out: Record<string, unknown> = {};
      for (const [key, field] of fields) {
        const rendered = await field(context);
        if (rendered !== undefined) out[key] = rendered;
      }
      return out;
    };
  }
  return async () => value;
}

/** A template that does not parse, and where it is in its value. */
export class TemplateError extends Error {
  readonly path: readonly PropertyKey[];

  constructor(path: readonly PropertyKey[], message: string) {
    super(message);
    this.path = path;
  }
}

/**
 * A model's text as JSON, when it is: a reply in a Markdown code fence (as models often give
 * it) counts. Undefined otherwise.
 */
export function jsonOfReply(text: string): unknown {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text)?.[1] ?? text;
  try {
    return JSON.parse(fenced) as unknown;
  } catch {
    return undefined;
  }
}

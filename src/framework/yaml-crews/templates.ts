import { Liquid, type Template } from 'liquidjs';

/**
 * The template engine of YAML crews: LiquidJS, which runs no code. Includes read no file (no
 * templates are registered), unknown filters are errors at load, a template reads only its
 * values' own properties, and rendering is bounded in time and memory, so a template cannot
 * reach outside what it is given or hang a crew.
 */
const liquid = new Liquid({
  templates: {},
  strictFilters: true,
  ownPropertyOnly: true,
  parseLimit: 100_000,
  renderLimit: 1_000,
  memoryLimit: 10_000_000,
});

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

/**
 * A value with templates in it, checked at load: a string is rendered as text, except one that
 * is a single `{{ expression }}`, which gives the expression's value as is (a number, an object);
 * arrays and objects are rendered leaf by leaf (an expression naming nothing is left out of an
 * object, null in a list); anything else is itself.
 */
export type CompiledValue = (scope: TemplateScope) => Promise<unknown>;

const SINGLE_EXPRESSION = /^\{\{-?\s*([^{}]*?)\s*-?\}\}$/;

/**
 * Compiles a template string.
 *
 * @throws Error with LiquidJS's message (its line and column) for a template that does not parse
 */
export function compileText(text: string): (scope: TemplateScope) => Promise<string> {
  const template: Template[] = liquid.parse(text);
  return (scope) => liquid.render(template, scope) as Promise<string>;
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
        return (scope) => liquid.evalValue(expression, scope);
      }
      return compileText(value);
    } catch (error) {
      throw new TemplateError(path, (error as Error).message);
    }
  }
  if (Array.isArray(value)) {
    const items = value.map((item, index) => compileValue(item, [...path, index]));
    // What names nothing is left out, as JSON leaves it out: a null in a list, no field in an object.
    return async (scope) => (await Promise.all(items.map((item) => item(scope)))).map((item) => item ?? null);
  }
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([key, field]) => [key, compileValue(field, [...path, key])] as const);
    return async (scope) => {
      const out: Record<string, unknown> = {};
      for (const [key, field] of fields) {
        const rendered = await field(scope);
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

import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { ConstructionFailure, ConstructorStep } from '../errors.js';

/** The key tsyringe's `@inject` writes its tokens under: parameter index → token, or a descriptor holding one. */
const INJECTION_TOKENS = 'injectionTokens';

type Constructor = new (...args: unknown[]) => object;

/**
 * Why `container` cannot construct `type`, found by walking constructor parameters from the
 * metadata TypeScript and `@inject` left (never from the container's error text): the first
 * parameter, depth first, that has no runtime type, no provider, or no metadata of its own; or,
 * when every parameter can be had, the constructor that threw. Called only after a resolve failed.
 */
export function explainConstructionFailure(type: Constructor, container: DependencyContainer, path: readonly ConstructorStep[] = [], seen: ReadonlySet<Constructor> = new Set()): ConstructionFailure {
  // A class met again down its own chain: every construction of it recurses until the stack ends.
  if (seen.has(type)) return { path, problem: 'cycle', subject: type.name };
  const parameters = constructorParameters(type);
  if (parameters === undefined) return { path, problem: 'not-injectable', subject: type.name };
  for (const [index, token] of parameters.entries()) {
    const step: ConstructorStep = { className: type.name, index, token: tokenName(token) };
    const at = [...path, step];
    if (token === Object) return { path: at, problem: 'interface', subject: 'Object' };
    const failed = attempt(() => container.resolve(token as InjectionToken));
    if (failed === undefined) continue;
    if (container.isRegistered(token as InjectionToken, true)) return { path: at, problem: 'threw', subject: step.token, thrown: failed.thrown };
    if (typeof token === 'function') return explainConstructionFailure(token as Constructor, container, at, new Set([...seen, type]));
    return { path: at, problem: 'unregistered', subject: step.token };
  }
  const failed = attempt(() => container.resolve(type));
  return { path, problem: 'threw', subject: type.name, thrown: failed?.thrown };
}

/**
 * A chain of constructor parameters that leads from `type` back to a class already on it, read
 * from metadata alone, before anything is constructed: the container would recurse down it until
 * the stack ends (slowly, building its error text at every level). Tokens a provider gives end a
 * chain. Undefined when there is none.
 */
export function constructorCycle(type: Constructor, container: DependencyContainer, path: readonly ConstructorStep[] = [], on: ReadonlySet<Constructor> = new Set()): ConstructionFailure | undefined {
  if (on.has(type)) return { path, problem: 'cycle', subject: type.name };
  for (const [index, token] of (constructorParameters(type) ?? []).entries()) {
    if (typeof token !== 'function' || token === Object || container.isRegistered(token as InjectionToken, true)) continue;
    const cycle = constructorCycle(token as Constructor, container, [...path, { className: type.name, index, token: token.name }], new Set([...on, type]));
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/** The tokens of a class's constructor parameters; undefined when it has parameters but no metadata to name them. */
function constructorParameters(type: Constructor): unknown[] | undefined {
  const types: unknown[] | undefined = Reflect.getMetadata('design:paramtypes', type);
  if (types === undefined) return type.length > 0 ? undefined : [];
  const injected: Record<string, unknown> = Reflect.getOwnMetadata(INJECTION_TOKENS, type) ?? {};
  return types.map((declared, index) => {
    const token = injected[index];
    if (token === undefined) return declared;
    return typeof token === 'object' && token !== null && 'token' in token ? token.token : token;
  });
}

function tokenName(token: unknown): string {
  if (typeof token === 'function') return token.name;
  return String(token);
}

function attempt(run: () => unknown): { thrown: unknown } | undefined {
  try {
    run();
    return undefined;
  } catch (thrown) {
    return { thrown };
  }
}

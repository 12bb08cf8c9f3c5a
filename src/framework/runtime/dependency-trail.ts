import { describeThrown } from './describe-thrown.js';

/**
 * Why tsyringe could not construct a class, read from its nested message ("Cannot inject the
 * dependency "x" at position #0 of "A" constructor. Reason: ...", one level per hop): the path of
 * constructor parameters down to the failure, and the failure itself.
 */
export interface DependencyTrail {
  /** `A(rules #0) → B(clock #1)`: each constructor and the parameter that failed; empty when the first constructor itself failed. */
  readonly path: string;
  /** What failed at the end of the path: tsyringe's reason, or what a constructor threw. */
  readonly cause: string;
  /** What to do about it, when the cause is one tsyringe names. */
  readonly fix: string | undefined;
}

const HOP = /^Cannot inject the dependency (?:"([^"]+)" )?at position #(\d+) of "([^"]*)" constructor\. Reason:$/;

export function dependencyTrail(error: unknown): DependencyTrail {
  const lines = describeThrown(error)
    .split('\n')
    .map((line) => line.trim());
  const hops: string[] = [];
  let at = 0;
  for (let hop = HOP.exec(lines[0] ?? ''); hop !== null; hop = HOP.exec(lines[++at] ?? '')) {
    hops.push(`${hop[3]}(${hop[1] !== undefined ? `${hop[1]} ` : ''}#${hop[2]})`);
  }
  const cause = lines.slice(at).join(' ');
  return { path: hops.join(' → '), cause, fix: fixFor(cause) };
}

function fixFor(cause: string): string | undefined {
  const unknown = /^TypeInfo not known for "(.*)"$/.exec(cause)?.[1];
  // TypeScript emits Object for a parameter typed by an interface or a type alias: no class to make.
  if (unknown === 'Object') return 'a parameter typed by an interface has no runtime type: give it @inject(TOKEN) and register TOKEN in providers';
  if (unknown !== undefined) return `${unknown} has constructor parameters but no @injectable(): mark it @injectable() (exported by live-crew), or register it in providers`;
  const token = /^Attempted to resolve unregistered dependency token: "(.*)"$/.exec(cause)?.[1];
  if (token !== undefined) return `register ${token} in providers: { token, useValue | useClass | useFactory }`;
  return undefined;
}

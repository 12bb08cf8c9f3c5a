import type { CrewClass } from '../discovery/crew-definition.js';
import { Crew } from '../decorators/crew.js';
import { OnEvent } from '../decorators/on-event.js';

/**
 * A crew that stands in for `id` in a test of the crews that depend on it: it takes every event
 * and does nothing, so it finishes every slice and is never disabled (a dependency on it is
 * always met), and it writes no context (a test seeds what it would have written).
 */
export function stubCrew(id: string): CrewClass {
  class StubCrew {
    ignore(): void {}
  }
  Object.defineProperty(StubCrew, 'name', { value: `StubCrew(${id})` });
  OnEvent('*')(StubCrew.prototype, 'ignore', Object.getOwnPropertyDescriptor(StubCrew.prototype, 'ignore')!);
  Crew({ id })(StubCrew);
  return StubCrew;
}

import type { Monitor, RunObserver } from '../ports/run-observer.js';

const OBSERVER_HOOKS = [
  'eventAccepted',
  'actionsSent',
  'errorsSent',
  'sliceClosed',
  'streamForgotten',
  'contextMerged',
  'contextChanged',
  'heartbeat',
  'heartbeatGap',
  'modelCalled',
  'vectorSearched',
  'runnerSilent',
  'streamOwnership',
  'poolLooked',
] as const satisfies readonly (keyof RunObserver)[];

// A hook added to RunObserver and missing above would never reach the observers: it fails to compile here.
true satisfies [Exclude<keyof RunObserver, (typeof OBSERVER_HOOKS)[number]>] extends [never] ? true : never;

/**
 * A monitor that also tells `observers` everything it is told. A hook nobody has stays absent,
 * and one only one observer has is that observer's own: the hot path pays for no fan-out.
 */
export function alsoObserving(monitor: Monitor, observers: readonly RunObserver[]): Monitor {
  const all = [monitor, ...observers];
  const combined: Monitor = {
    ...(monitor.interceptor ? { interceptor: monitor.interceptor } : {}),
    start: () => monitor.start?.() ?? Promise.resolve(),
    close: () => monitor.close(),
  };
  for (const hook of OBSERVER_HOOKS) {
    const calls = all.flatMap((observer) => (observer[hook] ? [(observer[hook] as (...args: unknown[]) => void).bind(observer)] : []));
    if (calls.length === 0) continue;
    const fanOut = (...args: unknown[]) => {
      for (const call of calls) call(...args);
    };
    Object.assign(combined, { [hook]: calls.length === 1 ? calls[0] : fanOut });
  }
  return combined;
}

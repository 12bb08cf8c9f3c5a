import { AsyncLocalStorage } from 'node:async_hooks';

/** A call that faults can escape: it reports what escaped it as its own error. */
export interface FaultingCall {
  strayFault(error: unknown): void;
}

/** Told of a fault no call can be found for. */
export type UnattributedFault = (error: unknown, kind: 'rejection' | 'exception') => void;

/**
 * The call whose asynchronous work is running. Only handlers that may leave work behind
 * (async ones) run inside it: entering it costs every synchronous call, and once used it slows
 * every promise of the process, so the synchronous hot path never touches it.
 */
const currentCall = new AsyncLocalStorage<FaultingCall>();
const unattributed = new Set<UnattributedFault>();

/** Runs `fn` as part of `call`: a rejection nobody handles, or an exception thrown from a timer it set, is reported as its error. */
export function runAsCall<A extends unknown[], T>(call: FaultingCall, fn: (...args: A) => T, ...args: A): T {
  return currentCall.run(call, fn, ...args);
}

function onFault(kind: 'rejection' | 'exception') {
  return (error: unknown) => {
    const call = currentCall.getStore();
    if (call !== undefined) call.strayFault(error);
    else for (const report of unattributed) report(error, kind);
  };
}
const onRejection = onFault('rejection');
const onException = onFault('exception');

/**
 * While a run goes on, a rejection nobody handles or an exception thrown outside any call (a
 * handler's timer, a floating promise) does not kill the process: it becomes an error of the
 * call it came from, or, when none can be found, goes to `report` (the run's log). Returns the
 * function that removes the trap; the process handlers go when the last run's trap does.
 */
export function trapStrayFaults(report: UnattributedFault): () => void {
  if (unattributed.size === 0) {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  }
  unattributed.add(report);
  return () => {
    if (!unattributed.delete(report) || unattributed.size > 0) return;
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}

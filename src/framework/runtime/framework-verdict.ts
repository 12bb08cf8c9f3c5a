import { ErrorReason } from '../model/error-record.js';

/** The reasons a call can fail with, beside its handler throwing. */
export type CallFailureReason = typeof ErrorReason.HandlerError | typeof ErrorReason.Timeout | typeof ErrorReason.Budget | typeof ErrorReason.ReplayDivergence;

/**
 * A call failed by the framework, not by what its handler threw (abandoned at a stop, its worker
 * crashed, a model call over budget): its message stands alone in the error record, under its
 * own reason.
 */
export class FrameworkVerdict extends Error {
  readonly reason: CallFailureReason;

  constructor(message: string, reason: CallFailureReason = ErrorReason.HandlerError) {
    super(message);
    this.reason = reason;
  }
}

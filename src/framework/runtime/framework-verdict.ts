/**
 * A call failed by the framework, not by what its handler threw (abandoned at a stop, its worker
 * crashed): its message stands alone in the error record.
 */
export class FrameworkVerdict extends Error {}

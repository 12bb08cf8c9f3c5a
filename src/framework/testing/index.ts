export { createTestingApp, type TestingApp, type TestingAppOptions, type TestRunResult } from './testing-app.js';
export { ArrayEventSource, CollectingActionSink, CollectingErrorSink, MemoryDecisionJournal } from './in-memory-ports.js';
export { ManualClock } from './manual-clock.js';

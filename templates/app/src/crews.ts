// The crews module `live-crew run --crews dist/crews.js` loads: every exported @Crew class runs.
// `live-crew generate crew <name>` adds an export here.
export * from './greeter.js';

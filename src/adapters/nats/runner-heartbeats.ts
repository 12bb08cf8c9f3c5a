import { z } from 'zod';
import { HeartbeatWatch } from '../../framework/runtime/heartbeat-watch.js';
import { parseForeignJson } from '../../framework/model/json.js';
import type { DistributedRun } from './distributed-run.js';
import { liveSubject } from './jetstream-streams.js';

/** A heartbeat as processes of a distributed run publish it; only its `process` matters here. */
const Beat = z.object({ payload: z.object({ process: z.string().max(1000) }) });
/** A heartbeat nests three levels; past this, nothing is one. */
const BEAT_MAX_DEPTH = 8;

/**
 * Watches the heartbeats of a stream's runners on `live.<stream>.heartbeats` (DESIGN §6): a
 * runner silent for more than 3 beats is logged as an error and set in the run's monitor
 * (`live_crew_runner_silent{selector}`), and reported back when it beats again. Returns the stop.
 */
export function watchRunners(run: Pick<DistributedRun, 'nc' | 'config' | 'clock' | 'logger' | 'monitor'>, streamId: string): () => void {
  const watch = new HeartbeatWatch({ intervalMs: run.config.heartbeat_s * 1000, clock: run.clock, logger: run.logger, observer: run.monitor });
  const subscription = run.nc.subscribe(liveSubject(streamId, 'heartbeats'), {
    callback: (error, message) => {
      if (error !== null) return;
      // Other processes' beats are theirs to watch; a message that is no heartbeat is not one.
      const beat = parseForeignJson(message.string(), BEAT_MAX_DEPTH);
      const parsed = beat.problem === undefined ? Beat.safeParse(beat.value) : undefined;
      if (parsed?.success && parsed.data.payload.process.startsWith('runner ')) watch.beat(parsed.data.payload.process);
    },
  });
  watch.start();
  return () => {
    watch.stop();
    subscription.unsubscribe();
  };
}

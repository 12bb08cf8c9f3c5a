import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { DependencyContainer } from 'tsyringe';
import type { LiveCrewConfigInput } from '../config/config-schema.js';
import type { CrewClass } from '../discovery/crew-definition.js';
import type { InterceptorRef } from '../ports/interceptor.js';
import type { RunObserver } from '../ports/run-observer.js';
import type { ProviderRegistration } from '../tokens.js';

/** Options of `createLiveCrewApp`. */
export interface LiveCrewAppOptions {
  /** The crew classes to run. */
  crews: readonly CrewClass[];
  /** Services, fakes and adapter overrides for the container. */
  providers?: readonly ProviderRegistration[];
  /** Configuration values; they win over the file and env vars. */
  config?: LiveCrewConfigInput;
  /** Defaults under the file and env vars (`createTestingApp` logs nothing unless told to). */
  configDefaults?: LiveCrewConfigInput;
  /** The YAML config file; default `live-config.yaml` if present; `false` for none. */
  configFile?: string | false;
  /** Env vars to read `LIVE_CREW_*` settings from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The parent of the app's container; default tsyringe's root container. */
  container?: DependencyContainer;
  /**
   * Interceptors around every handler call of every crew, outermost first, before each crew's
   * own `@UseInterceptors`. Classes are constructed through the app's container.
   */
  interceptors?: readonly InterceptorRef[];
  /** Told what the run takes in and sends out, beside the monitor (the CLI's `--progress`, its dashboard). */
  observer?: RunObserver | readonly RunObserver[];
  /**
   * The compiled module (`.js`) exporting the crews, as the CLI's `--crews`: needed by crews with
   * `isolation: worker` or `process`, which are constructed from it in their worker or process.
   */
  crewsModule?: string;
  /**
   * Language models by name, beside (and winning over) those of `models:` in the config: an AI
   * SDK model, a provider's or a fake (`scriptedModel`, the SDK's `MockLanguageModelV3`). Crews
   * reach them as `ctx.model(name)`, journaled and budgeted like configured ones.
   */
  models?: Readonly<Record<string, LanguageModelV3>>;
  /**
   * Embedding models by name, beside (and winning over) those of `embedders:`: an AI SDK model, a
   * provider's or a fake (`hashEmbedder`). Crews reach them as `ctx.embedder(name)` and through
   * `ctx.vectors()`, journaled like configured ones.
   */
  embedders?: Readonly<Record<string, EmbeddingModelV3>>;
  /**
   * The crews' reloadable knobs (`timeoutMs`, `maxErrors`, `maxTokensPerSlice`,
   * `maxCallsPerMinute`, `model`) may take new values while the app runs, by version
   * (`LiveCrewApp.reloadableKnobs`): what `run --watch` does with a changed runtime file.
   */
  reloadable?: boolean;
}

import type { DependencyContainer } from 'tsyringe';
import type { ProviderRegistration } from '../tokens.js';
import { LifecycleError } from '../errors.js';
import { messages } from '../messages.js';
import { describeThrown } from '../describe-thrown.js';
import type { CrewRuntime } from './route-table.js';
import type { Logger } from '../ports/logger.js';

/** A crew or service with work to do before the first event: opening a connection, warming a cache. */
export interface OnStart {
  onStart(): void | Promise<void>;
}

/** A crew or service with work to do after the last event: flushing, closing what `onStart` opened. */
export interface OnStop {
  onStop(): void | Promise<void>;
}

/** An `onStop` that threw: who, and what. */
export interface StopFailure {
  readonly member: string;
  readonly error: string;
}

interface Member {
  readonly name: string;
  readonly instance: Partial<OnStart & OnStop>;
}

/**
 * The `onStart` and `onStop` hooks of an app's services and crews. Services are the instances of
 * the `providers` given (a `useValue` object, and whatever the container makes for a token while
 * crews are constructed: every instance of a transient class); they start first, in registration
 * order, then the crews in run order. They stop in the reverse order.
 */
export class LifecycleHooks {
  /** Each service instance, its name and its provider's place in `providers`. */
  readonly #services = new Map<object, { name: string; order: number }>();
  #started: Member[] = [];

  /** Call before the crews are constructed, so the services made for them are seen. */
  constructor(container: DependencyContainer, providers: readonly ProviderRegistration[]) {
    providers.forEach((provider, order) => {
      const name = tokenName(provider.token);
      if ('useValue' in provider) this.#see(provider.useValue, { name, order });
      container.afterResolution(
        provider.token,
        (_token, made) => {
          for (const instance of [made].flat()) this.#see(instance, { name, order });
        },
        { frequency: 'Always' },
      );
    });
  }

  /**
   * Calls every `onStart`, awaiting each before the next.
   *
   * @throws LifecycleError naming the one that threw, once those started before it are stopped
   */
  async start(crews: readonly CrewRuntime[]): Promise<void> {
    const members: Member[] = [
      ...[...this.#services].sort(([, a], [, b]) => a.order - b.order).map(([instance, { name }]) => ({ name: `service ${name}`, instance })),
      ...crews.map(({ definition, instance }) => ({ name: `crew "${definition.id}" (${definition.className})`, instance })),
    ];
    for (const member of members) {
      try {
        await member.instance.onStart?.();
      } catch (error) {
        // The failure to start is what the user must see; a failure to stop then is secondary.
        await this.stop();
        throw new LifecycleError(messages.onStartFailed(member.name, describeThrown(error)), { cause: error });
      }
      this.#started.push(member);
    }
  }

  /** Calls `onStop` of every member started, in reverse order; one that throws does not keep the others from stopping. */
  async stop(): Promise<StopFailure[]> {
    const started = this.#started.reverse();
    this.#started = [];
    const failures: StopFailure[] = [];
    for (const member of started) {
      try {
        await member.instance.onStop?.();
      } catch (error) {
        failures.push({ member: member.name, error: describeThrown(error) });
      }
    }
    return failures;
  }

  #see(instance: unknown, provider: { name: string; order: number }): void {
    if (typeof instance === 'object' && instance !== null && !this.#services.has(instance)) this.#services.set(instance, provider);
  }
}

/** Logs each `onStop` that threw, as an error naming the crew or service. */
export function logStopFailures(logger: Logger, failures: readonly StopFailure[]): void {
  for (const { member, error } of failures) logger.error({ member, error }, messages.onStopFailed(member));
}

function tokenName(token: ProviderRegistration['token']): string {
  return typeof token === 'function' ? token.name : String(token);
}

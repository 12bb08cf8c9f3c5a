import { ConfigError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import { describeThrown } from '../../framework/describe-thrown.js';

/**
 * Loads an optional peer dependency of a vector backend (`load` imports it).
 *
 * @throws ConfigError naming the backend and the packages to install, when it cannot be loaded
 */
export async function loadBackendPackages<T>(backend: string, packages: readonly string[], load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw new ConfigError(messages.vectorBackendPackage(backend, packages.join(' '), describeThrown(error)), { cause: error });
  }
}

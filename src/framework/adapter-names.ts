/**
 * The names adapters are registered under, per port. Apart from the registry so configuration
 * can check a name (`transport: nats`) without knowing the ports' types or their factories.
 */

/** A port an adapter can be registered for. */
export type PortName = 'source' | 'actions' | 'errors' | 'context' | 'journal' | 'monitor' | 'logger' | 'models' | 'vectors' | 'contextOut' | 'isolates';

const registered = new Map<PortName, Set<string>>();

/** Notes that an adapter is registered for `port` under `name`. */
export function noteAdapterName(port: PortName, name: string): void {
  let names = registered.get(port);
  if (names === undefined) registered.set(port, (names = new Set()));
  names.add(name);
}

/** The names adapters are registered under for a port, in registration order. */
export function adapterNames(port: PortName): string[] {
  return [...(registered.get(port) ?? [])];
}

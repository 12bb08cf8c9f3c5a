/**
 * The NATS modules `publish` and `tail` use, imported when one of them runs: every other command
 * starts without loading the NATS client.
 */
export function importNats() {
  return Promise.all([import('@nats-io/jetstream'), import('../adapters/nats/nats-connect.js'), import('../adapters/nats/jetstream-streams.js'), import('../adapters/nats/end-of-stream.js')]);
}

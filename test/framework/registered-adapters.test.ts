import { describe, expect, it } from 'vitest';
import { createLiveCrewApp, Crew, OnEvent, registerAdapter, type CrewContext, type Event } from '../../src/index.js';
import { ArrayEventSource, CollectingActionSink, CollectingErrorSink, MemoryDecisionJournal } from '../../src/testing.js';

@Crew({ id: 'echo' })
class Echo {
  @OnEvent('ping')
  onPing(event: Event<{ n: number }>, ctx: CrewContext) {
    ctx.emit('pong', { n: event.payload.n });
  }
}

describe('adapters registered by a program are selectable in config', () => {
  it('transport: <a registered name> binds that adapter for source, actions, errors and journal', async () => {
    const actions = new CollectingActionSink();
    registerAdapter('source', 'inbox', () => new ArrayEventSource([{ ts: '2024-05-01T12:00:00Z', kind: 'ping', stream_id: 's', payload: { n: 7 } }]));
    registerAdapter('actions', 'inbox', () => actions);
    registerAdapter('errors', 'inbox', () => new CollectingErrorSink());
    registerAdapter('journal', 'inbox', () => new MemoryDecisionJournal());
    const app = await createLiveCrewApp({ crews: [Echo], configFile: false, env: {}, config: { transport: 'inbox', log_level: 'silent' } });
    await app.run();
    expect(actions.actions.map((a) => a.payload)).toEqual([{ n: 7 }]);
  });

  it('a name nobody registered is refused when the config is read, listing the names there are', async () => {
    await expect(createLiveCrewApp({ crews: [Echo], configFile: false, env: {}, config: { transport: 'kafka' } })).rejects.toThrow(
      /transport: must be one of file, nats, .*inbox.* \(the adapters registered for the source port; registerAdapter\('source', name, factory\) adds one\) \(got "kafka"\)/,
    );
  });
});

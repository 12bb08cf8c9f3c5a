import { describe, expect, it } from 'vitest';
import { ACTION_SINK, createLiveCrewApp, Crew, ERROR_SINK, EVENT_SOURCE, OnEvent, registerAdapter, registerAdapterModule, type CrewContext, type Event } from '../../src/index.js';
import { MemoryContextBackend } from '../../src/embedded.js';
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

  it('an adapter registered by module is imported when a configuration first chooses it, not before', async () => {
    let imported = 0;
    // The app asks the store it chose for each stream's committed context as the stream opens.
    const opened: string[] = [];
    const memory = new MemoryContextBackend();
    const backend = {
      load: (stream: string) => {
        opened.push(stream);
        return memory.load(stream);
      },
      commit: memory.commit.bind(memory),
      close: () => memory.close(),
    };
    registerAdapterModule('context', 'lazy-store', async () => {
      imported++;
      return () => backend;
    });
    expect(imported).toBe(0);
    const actions = new CollectingActionSink();
    const run = async () =>
      (
        await createLiveCrewApp({
          crews: [Echo],
          configFile: false,
          env: {},
          config: { kv_backend: 'lazy-store', log_level: 'silent' },
          providers: [
            { token: EVENT_SOURCE, useValue: new ArrayEventSource([{ ts: '2024-05-01T12:00:00Z', kind: 'ping', stream_id: 's', payload: { n: 1 } }]) },
            { token: ACTION_SINK, useValue: actions },
            { token: ERROR_SINK, useValue: new CollectingErrorSink() },
          ],
        })
      ).run();
    await run();
    await run();
    expect(imported).toBe(1);
    expect(actions.actions).toHaveLength(2);
    expect(opened).toEqual(['s', 's']);
  });

  it('a name nobody registered is refused when the config is read, listing the names there are', async () => {
    await expect(createLiveCrewApp({ crews: [Echo], configFile: false, env: {}, config: { transport: 'kafka' } })).rejects.toThrow(
      /transport: must be one of file, nats, .*inbox.* \(the adapters registered for the source port; registerAdapter\('source', name, factory\) adds one\) \(got "kafka"\)/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { Crew, OnEvent, UseInterceptors, type CrewContext } from 'live-crew';
import { createTestingApp } from 'live-crew/testing';
import { {{className}} } from '../src/{{file}}.js';

@Crew({ id: 'probe' })
@UseInterceptors({{className}})
class Probe {
  @OnEvent('ping')
  onPing(_event: unknown, ctx: CrewContext): void {
    ctx.emit('pong', {});
  }
}

describe('{{className}}', () => {
  it('runs around every call of the crew it is applied to', async () => {
    const interceptor = new {{className}}();
    const app = await createTestingApp({ crews: [Probe], providers: [{ token: {{className}}, useValue: interceptor }] });
    const ping = { ts: '2024-05-01T12:00:00Z', kind: 'ping', stream_id: 's1' };
    const { actions } = await app.run([ping, ping]);
    expect(actions).toHaveLength(2);
    expect(interceptor.calls.get('probe.onPing')).toBe(2);
  });
});

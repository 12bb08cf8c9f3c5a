import { Crew, OnEvent, type CrewContext, type Event } from 'live-crew';

/** {{className}}: what it watches for and what it emits. */
@Crew({ id: '{{id}}' })
export class {{className}} {
  @OnEvent('*')
  on(event: Event, ctx: CrewContext): void {
    ctx.emit('{{id}}_seen', { kind: event.kind });
  }
}

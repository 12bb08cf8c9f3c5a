import { Crew, DependsOn, OnEvent, type CrewContext, type Event } from 'live-crew';

/** The payload of a generated event. */
export type Reading = { v: number };

/** Counts events per kind in its own memory. */
@Crew({ id: 'counter' })
export class Counter {
  readonly counts = new Map<string, number>();

  @OnEvent('*')
  on(event: Event): void {
    this.counts.set(event.kind, (this.counts.get(event.kind) ?? 0) + 1);
  }
}

/** Reads and writes the stream's context on every event. */
@Crew({ id: 'totaliser' })
export class Totaliser {
  @OnEvent('*')
  on(event: Event<Reading>, ctx: CrewContext): void {
    ctx.context.set('total', (ctx.context.get<number>('total') ?? 0) + event.payload.v);
  }
}

/** Emits an action for every event. */
@Crew({ id: 'emitter' })
export class Emitter {
  @OnEvent('*')
  on(event: Event<Reading>, ctx: CrewContext): void {
    ctx.emit('seen', { v: event.payload.v });
  }
}

/** Emits an action for every event, with the total as of the previous slice: a dependency. */
@Crew({ id: 'reporter' })
@DependsOn({ crew: 'totaliser', offset: -1 })
export class Reporter {
  @OnEvent('*')
  on(event: Event<Reading>, ctx: CrewContext): void {
    ctx.emit('seen', { v: event.payload.v, total: ctx.context.get<number>('total') ?? 0 });
  }
}

export const crews = [Counter, Totaliser, Emitter];
/** The same work with the emitter depending on the totaliser and reading its merged total. */
export const crewsWithDependency = [Counter, Totaliser, Reporter];

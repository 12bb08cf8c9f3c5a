import { Crew, OnEvent, type CrewContext, type Event } from 'live-crew';

/** Words for a greeting: a service the crew gets through DI (and a test replaces). */
export class Phrasebook {
  greeting(name: string): string {
    return `Welcome, ${name}!`;
  }
}

/** Greets each player who joins, and counts them in the stream's shared context. */
@Crew({ id: 'greeter' })
export class Greeter {
  constructor(private readonly phrasebook: Phrasebook) {}

  @OnEvent('player_joined')
  onJoined(event: Event<{ name: string }>, ctx: CrewContext): void {
    const players = (ctx.context.get<number>('players') ?? 0) + 1;
    ctx.context.set('players', players);
    ctx.emit('greeting', { text: this.phrasebook.greeting(event.payload.name), players });
  }
}

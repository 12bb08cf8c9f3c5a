import { Crew, OnEvent, type CrewContext, type Event } from 'live-crew';
import { z } from 'zod';

/** Words for a greeting: a service the crew gets through DI (and a test replaces). */
export class Phrasebook {
  greeting(name: string): string {
    return `Welcome, ${name}!`;
  }
}

/** What a player_joined event carries; one that does not match is an invalid_event error, not a call. */
const PlayerJoined = z.object({ name: z.string().min(1) });

/** Greets each player who joins, and counts them in the stream's shared context. */
@Crew({ id: 'greeter' })
export class Greeter {
  constructor(private readonly phrasebook: Phrasebook) {}

  @OnEvent('player_joined', { payload: PlayerJoined })
  onJoined(event: Event<z.infer<typeof PlayerJoined>>, ctx: CrewContext): void {
    const players = (ctx.context.get<number>('players') ?? 0) + 1;
    ctx.context.set('players', players);
    ctx.emit('greeting', { text: this.phrasebook.greeting(event.payload.name), players });
  }
}

import { Crew, DependsOn, OnEvent, type CrewContext, type Event } from 'live-crew';
import { z } from 'zod';

type Team = 'home' | 'away';
type Score = Record<Team, number>;
type Stats = { passes: Record<Team, number>; shots: Record<Team, number>; on_target: Record<Team, number> };

const TeamSchema = z.enum(['home', 'away']);
const Play = z.object({ team: TeamSchema, player: z.string(), minute: z.number().int() });
const Card = Play.extend({ colour: z.enum(['yellow', 'red']) });

/** Keeps the score in the shared context. */
@Crew({ id: 'score_tracker' })
export class ScoreTracker {
  @OnEvent('goal', { payload: Play })
  onGoal(event: Event<z.infer<typeof Play>>, ctx: CrewContext): void {
    const score = ctx.context.get<Score>('score') ?? { home: 0, away: 0 };
    ctx.context.set('score', { ...score, [event.payload.team]: score[event.payload.team] + 1 });
  }
}

/** Keeps possession (passes) and shots in the shared context. */
@Crew({ id: 'stats' })
export class MatchStats {
  @OnEvent(['pass', 'shot'])
  onPlay(event: Event<{ team: Team; on_target?: boolean }>, ctx: CrewContext): void {
    const zero = { home: 0, away: 0 };
    const stats = ctx.context.get<Stats>('stats') ?? { passes: zero, shots: zero, on_target: zero };
    const team = event.payload.team;
    const bump = (counts: Record<Team, number>) => ({ ...counts, [team]: counts[team] + 1 });
    ctx.context.set(
      'stats',
      event.kind === 'pass' ? { ...stats, passes: bump(stats.passes) } : { ...stats, shots: bump(stats.shots), on_target: event.payload.on_target ? bump(stats.on_target) : stats.on_target },
    );
  }
}

/** Says what happened, with the score as of the previous slice. */
@Crew({ id: 'commentator' })
@DependsOn({ crew: 'score_tracker', offset: -1 })
export class Commentator {
  @OnEvent(['kick_off', 'goal', 'card', 'half_time', 'full_time'])
  onMoment(event: Event<{ team?: Team; player?: string; minute?: number; colour?: string }>, ctx: CrewContext): void {
    const score = ctx.context.get<Score>('score') ?? { home: 0, away: 0 };
    const stats = ctx.context.get<Stats>('stats');
    const { player, minute, colour } = event.payload;
    const line =
      event.kind === 'goal'
        ? `${minute}' GOAL! ${player} scores for the ${event.payload.team} side.`
        : event.kind === 'card'
          ? `${minute}' ${colour} card for ${player}.`
          : event.kind === 'kick_off'
            ? 'And we are under way!'
            : `${event.kind === 'half_time' ? 'Half time' : 'Full time'}: ${score.home}-${score.away}` +
              (stats ? `, possession ${possession(stats)}% home, shots ${stats.shots.home}-${stats.shots.away}.` : '.');
    ctx.emit('commentary', { line, score });
  }
}

/** Puts a goal overlay on screen the moment a goal arrives. */
@Crew({ id: 'graphics' })
export class Graphics {
  @OnEvent('goal', { payload: Play })
  onGoal(event: Event<z.infer<typeof Play>>, ctx: CrewContext): void {
    ctx.emit('overlay', { template: 'goal', team: event.payload.team, player: event.payload.player, minute: event.payload.minute }, { ttlMs: 8000 });
  }
}

/**
 * Flags red cards to the production desk. It trusts its feed and throws on a card without a
 * colour: the error is reported, and every other crew goes on.
 */
@Crew({ id: 'referee_watch' })
export class RefereeWatch {
  @OnEvent('card')
  onCard(event: Event<unknown>, ctx: CrewContext): void {
    const card = Card.safeParse(event.payload);
    if (!card.success) throw new Error(`malformed card event: ${JSON.stringify(event.payload)}`);
    if (card.data.colour === 'red') ctx.emit('alert', { message: `Red card: ${card.data.player} (${card.data.team}), ${card.data.minute}'` });
  }
}

/**
 * A pundit: on each goal it asks a (simulated) model for a take, which takes 1-2 s. It runs in a
 * worker thread (`isolation: 'worker'`: a runaway call is stopped at `timeoutMs`), and lags 4
 * slices, so the slices it is still thinking about close without it and no other crew's action
 * waits for it. Its takes are deterministic: batch output is the same on every run.
 * `MATCH_DAY_PUNDIT_MS` sets the model's delay (the tests use 0).
 */
@Crew({ id: 'pundit', lag: 4, isolation: 'worker', timeoutMs: 10_000 })
export class Pundit {
  @OnEvent('goal', { payload: Play })
  async onGoal(event: Event<z.infer<typeof Play>>, ctx: CrewContext): Promise<void> {
    const { player, team, minute } = event.payload;
    const goals = (ctx.context.get<number>('pundit_goals') ?? 0) + 1;
    const take = await simulatedModel(`${player} for the ${team} side at ${minute}'`, goals, ctx.signal);
    ctx.context.set('pundit_goals', goals);
    ctx.emit('pundit', { take });
  }
}

/** Stands in for a model call: answers after `MATCH_DAY_PUNDIT_MS` (default 1-2 s, by the prompt), or fails when `signal` aborts. */
async function simulatedModel(prompt: string, goals: number, signal: AbortSignal): Promise<string> {
  const configured = process.env['MATCH_DAY_PUNDIT_MS'];
  const delay = configured !== undefined ? Number(configured) : 1000 + ((prompt.length * 97) % 1000);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, delay);
    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', abort, { once: true });
  });
  return `${prompt}: goal number ${goals} of the match, and what a finish.`;
}

function possession(stats: Stats): number {
  const total = stats.passes.home + stats.passes.away;
  return total === 0 ? 50 : Math.round((100 * stats.passes.home) / total);
}

export const crews = [ScoreTracker, MatchStats, Commentator, Graphics, RefereeWatch, Pundit];

import { Crew, OnEvent, type CrewContext, type Event } from 'live-crew';
import { z } from 'zod';

const Moment = z.object({ team: z.enum(['home', 'away']), player: z.string(), minute: z.number().int(), on_target: z.boolean().optional(), colour: z.string().optional() });
type Moment = z.infer<typeof Moment>;

/** A moment in words: what the clip index embeds and a search is matched against. */
function describe(kind: string, { team, player, minute, on_target, colour }: Moment): string {
  if (kind === 'goal') return `goal by ${player} for the ${team} side in minute ${minute}`;
  if (kind === 'card') return `${colour} card for ${player} of the ${team} side in minute ${minute}`;
  return `shot ${on_target ? 'on target' : 'off target'} by ${player} for the ${team} side in minute ${minute}`;
}

/**
 * The clip finder: indexes every moment (goal, shot, card) by its description in the `moments`
 * collection; on a goal, finds the 3 past moments most like it (the scorer's earlier chances,
 * the team's other goals) and emits them as a `clips` action for the replay desk.
 */
@Crew({ id: 'clip_finder' })
export class ClipFinder {
  @OnEvent(['goal', 'shot', 'card'], { payload: Moment })
  async onMoment(event: Event<Moment>, ctx: CrewContext): Promise<void> {
    const text = describe(event.kind, event.payload);
    const moments = ctx.vectors('moments');
    if (event.kind === 'goal') {
      // Sees the moments of every slice before this one: the goal itself is indexed when its slice merges.
      const similar = await moments.search(text, { topK: 3 });
      ctx.emit('clips', {
        goal: text,
        clips: similar.map((hit) => ({ moment: hit.text, at: hit.payload['at'], similarity: Math.round(hit.score * 1000) / 1000 })),
      });
    }
    await moments.upsert({ text, payload: { kind: event.kind, minute: event.payload.minute, player: event.payload.player, at: event.ts } });
  }
}

export const crews = [ClipFinder];

import { Crew, OnEvent, type CrewContext, type Event } from 'live-crew';

// Crews for `slow-crews.ts`, in a module of their own: an isolated crew's worker or child
// process loads its crews module, which must not be the bench itself.

/** How long the slow crew's simulated model call takes. */
export const SLOW_CALL_MS = 300;

function fast(id: string) {
  @Crew({ id, isolation: 'none' })
  class Fast {
    @OnEvent('*')
    on(event: Event, ctx: CrewContext): void {
      ctx.emit('fast', { crew: id, kind: event.kind });
    }
  }
  return Fast;
}

/** Four microsecond rules: each emits an action for every event. */
export const fastCrews = ['rule_a', 'rule_b', 'rule_c', 'rule_d'].map(fast);

/** A model-like crew: each question takes `SLOW_CALL_MS`; two slices of lag, up to 20 calls at once. */
@Crew({ id: 'model', lag: 2, concurrency: 20, isolation: 'none' })
export class Model {
  @OnEvent('question')
  async on(event: Event, ctx: CrewContext): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, SLOW_CALL_MS));
    ctx.emit('answer', { asked: event.ts });
  }
}

/** The least a crew can do: what isolation's overhead is measured on. Its isolation comes from the config. */
@Crew({ id: 'trivial', concurrency: 4 })
export class Trivial {
  @OnEvent('*')
  on(event: Event, ctx: CrewContext): void {
    ctx.emit('seen', { kind: event.kind });
  }
}

/** What an isolate of this module hosts. */
export const crews = [Trivial];
